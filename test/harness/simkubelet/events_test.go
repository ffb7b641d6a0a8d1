package simkubelet

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sinkStub answers every write with err.
type sinkStub struct{ err error }

func (s sinkStub) Create(e *corev1.Event) (*corev1.Event, error)          { return e, s.err }
func (s sinkStub) Update(e *corev1.Event) (*corev1.Event, error)          { return e, s.err }
func (s sinkStub) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) { return e, s.err }

func TestLagSinkMeasuresWrittenEvents(t *testing.T) {
	made := metav1.NewTime(time.Now().Add(-3 * time.Second))
	cases := []struct {
		name  string
		err   error
		event corev1.Event
		want  bool
	}{
		{name: "written", event: corev1.Event{LastTimestamp: made}, want: true},
		{name: "refused", err: errors.New("throttled"), event: corev1.Event{LastTimestamp: made}},
		{name: "without a timestamp", event: corev1.Event{}},
	}
	writes := map[string]func(lagSink, *corev1.Event) error{
		"create": func(s lagSink, e *corev1.Event) error { _, err := s.Create(e); return err },
		"update": func(s lagSink, e *corev1.Event) error { _, err := s.Update(e); return err },
		"patch":  func(s lagSink, e *corev1.Event) error { _, err := s.Patch(e, nil); return err },
	}
	for _, tc := range cases {
		for verb, write := range writes {
			t.Run(tc.name+"/"+verb, func(t *testing.T) {
				var lags []time.Duration
				s := lagSink{EventSink: sinkStub{err: tc.err}, observe: func(d time.Duration) { lags = append(lags, d) }}
				e := tc.event
				if err := write(s, &e); !errors.Is(err, tc.err) {
					t.Fatalf("write: %v, want the sink's %v", err, tc.err)
				}
				switch {
				case !tc.want && len(lags) > 0:
					t.Errorf("lags %v, want none", lags)
				case tc.want && (len(lags) != 1 || lags[0] < 3*time.Second || lags[0] > time.Minute):
					t.Errorf("lags %v, want one of about 3 s", lags)
				}
			})
		}
	}
}

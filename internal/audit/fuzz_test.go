package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeAndAudit: any input either fails to decode with a DocumentError or audits without a panic, every
// finding naming a known check with its severity, a message and its source.
func FuzzDecodeAndAudit(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := Decode("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			if de := (*DocumentError)(nil); !errors.As(err, &de) {
				t.Fatalf("error %v is not a DocumentError", err)
			}
			return
		}
		for _, w := range ws {
			for _, fd := range Audit(w, defaultOptions) {
				if c := checkByID(fd.ID); c.ID == "" || c.Severity != fd.Severity || fd.Message == "" || fd.Source != "fuzz.yaml" {
					t.Fatalf("finding %+v does not match its check %+v", fd, c)
				}
			}
		}
	})
}

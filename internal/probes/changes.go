package probes

// FieldRef names one probe field of one container: what probe-tuner owns, what a person overrode, what a rule
// may not touch. Recommendation, tuning and apply all speak it, so it lives here rather than with any of them.
type FieldRef struct {
	Container string `json:"container"`
	Probe     Kind   `json:"probe"`
	Field     Field  `json:"field"`
}

// Change is one probe field to change, with why.
type Change struct {
	Container string `json:"container"`
	Probe     Kind   `json:"probe"`
	// Field is a probe timing field, or WholeProbe when the whole probe is added or removed.
	Field Field `json:"field"`
	// From and To are the values before and after; for WholeProbe, 0 is no probe and 1 a probe.
	From int32 `json:"from"`
	To   int32 `json:"to"`
	// Reason is a CamelCase cause such as StartupKilledBeforeReady.
	Reason string `json:"reason"`
	// Evidence states the observations behind the change in numbers.
	Evidence string `json:"evidence,omitempty"`
}

// Ref is the field the change is about.
func (c Change) Ref() FieldRef {
	return FieldRef{Container: c.Container, Probe: c.Probe, Field: c.Field}
}

// Same reports whether c and o change the same field to the same value.
func (c Change) Same(o Change) bool {
	return c.Container == o.Container && c.Probe == o.Probe && c.Field == o.Field && c.To == o.To
}

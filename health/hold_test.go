package health

import (
	"testing"
	"time"
)

func TestAWithdrawalHoldsUntilWorseOrRecovered(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	odr := Target{Op: Less, Value: 0.01}
	tracking := Target{Op: GreaterEqual, Value: 0.95}
	for _, c := range []struct {
		name   string
		held   *float64
		now    *float64
		target Target
		opens  bool
	}{
		{"the same figures", f(0.10), f(0.10), odr, false},
		{"better, still in breach", f(0.10), f(0.05), odr, false},
		{"worse", f(0.10), f(0.15), odr, true},
		{"an at-least metric, the same", f(0.90), f(0.90), tracking, false},
		{"an at-least metric, better", f(0.90), f(0.93), tracking, false},
		{"an at-least metric, worse", f(0.90), f(0.85), tracking, true},
		{"no value held", nil, f(0.02), odr, true},
	} {
		h := Hold{Metric: ODR, WithdrawnAt: at, Value: c.held}
		if got := h.Opens(c.now, c.target); got != c.opens {
			t.Errorf("%s: opens %v, want %v", c.name, got, c.opens)
		}
	}
	h := Hold{WithdrawnAt: at, Value: f(0.1)}
	for _, c := range []struct {
		s    Status
		at   time.Time
		ends bool
	}{
		{Good, at.Add(time.Hour), true},
		{Good, at, true},
		{Good, at.Add(-time.Hour), false}, // an evaluation of before the withdrawal, finishing late
		{InsufficientData, at.Add(time.Hour), false},
		{Bad, at.Add(time.Hour), false},
	} {
		if got := h.Ends(c.s, c.at); got != c.ends {
			t.Errorf("%s at %s: ends %v, want %v", c.s, c.at, got, c.ends)
		}
	}
}

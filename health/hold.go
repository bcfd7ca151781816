package health

import "time"

// Hold is what a reviewer's withdrawal of a metric case leaves behind: the
// metric's figures when a person decided that its breach should not stand.
//
// The rule: an algorithm does not undo a person's decision. After a withdrawal,
// a breach of the same metric of the same seller opens no new case while the
// metric is no worse than it was at the withdrawal. A new case opens when
//   - the metric is worse than at the withdrawal (a value further from its
//     target: higher for an "at most" metric, lower for an "at least" one), as
//     that is something the reviewer did not see; or
//   - the metric has been seen within its target since (which ends the hold)
//     and then misses it again: a new breach, not the one withdrawn.
//
// A new case of the metric, however it opened, ends the hold too; its own
// withdrawal leaves a new one.
type Hold struct {
	SellerID               string
	Metric                 MetricID
	CaseID                 string
	WithdrawnAt            time.Time
	Numerator, Denominator int64
	Value                  *float64
}

// Opens reports whether a breach at value v opens a new case despite the hold:
// only when v is worse than the value at the withdrawal, in the direction of
// the metric's target t.
func (h Hold) Opens(v *float64, t Target) bool {
	if h.Value == nil || v == nil {
		return h.Value == nil && v != nil // a hold with no value holds nothing back
	}
	switch t.Op {
	case Greater, GreaterEqual:
		return *v < *h.Value
	default:
		return *v > *h.Value
	}
}

// Ends reports whether an evaluation at instant at that found the metric with
// status s ends the hold: the metric seen within its target after the withdrawal.
func (h Hold) Ends(s Status, at time.Time) bool { return s == Good && !at.Before(h.WithdrawnAt) }

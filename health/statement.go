package health

import (
	"fmt"
	"strings"
	"time"
)

// Statement is a case's statement of reasons in words: the rule, whether a
// machine applied it, and how and until when the seller can answer.
type Statement struct {
	Rule            string     `json:"rule"`
	Automated       bool       `json:"automated"`
	HowToAppeal     string     `json:"how_to_appeal"`
	AppealBy        *time.Time `json:"appeal_by"`
	Recommendations []string   `json:"recommendations"`
}

// StatementOf is the statement of reasons of case c, whose evidence measured its
// metric against target over windowDays (both zero for a policy case).
func StatementOf(c Case, target Target, windowDays int) Statement {
	s := Statement{Automated: c.Kind == MetricBreach, Recommendations: []string{}}
	switch {
	case c.Metric != "":
		def := Define(c.Metric)
		s.Rule = fmt.Sprintf("%s must be %s %g%%; it counts %s, of %s, over %d days.", def.Title, target.Op,
			target.Value*100, def.Numerator, def.Denominator, windowDays)
		s.Recommendations = def.Recommendations
	case c.Violation != "":
		s.Rule = "Policy violation " + strings.ReplaceAll(c.Violation, "_", " ") + " on listing " + c.ListingID + "."
	}
	switch c.State {
	case Warned:
		s.HowToAppeal = "Nothing is enforced yet: bring the metric back on target before the deadline and the case closes by itself."
	case Enforced, InfoRequested:
		s.HowToAppeal = "POST /v1/cases/" + c.ID + "/appeals with root_cause, corrective_actions and preventive_measures, or use the case page."
		if !c.Deadline.IsZero() {
			by := c.Deadline
			s.AppealBy = &by
		}
	case UnderReview:
		s.HowToAppeal = "Your Plan of Action is under review; the deadline is the review's."
	case PendingConfirmation:
		s.HowToAppeal = "Nothing is enforced yet: a reviewer checks the case before any suspension and you will be told the decision. Write to them below, or dispute an order that should not count."
	default:
		s.HowToAppeal = "The case is closed."
	}
	return s
}

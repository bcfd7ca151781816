package health

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Action is what a breach of a metric leads to.
type Action string

const (
	Suspend  Action = "suspend"  // account suspension
	Restrict Action = "restrict" // seller-fulfilled offers restricted
	Notify   Action = "notify"   // a notice only, no enforcement
)

func (a Action) valid() bool { return a == Suspend || a == Restrict || a == Notify }

// MetricPolicy is the rule for one metric.
type MetricPolicy struct {
	Target         Target `json:"target"`
	WindowDays     int    `json:"window_days"`
	MinDenominator int64  `json:"min_denominator"`
	OnBreach       Action `json:"on_breach"`
}

// Window is the length of the metric's window.
func (p MetricPolicy) Window() time.Duration { return time.Duration(p.WindowDays) * 24 * time.Hour }

// CasePolicy holds the timings of the case lifecycle.
type CasePolicy struct {
	WarningGrace       time.Duration `json:"warning_grace"`
	AppealWindow       time.Duration `json:"appeal_window"`
	ReviewSLA          time.Duration `json:"review_sla"`
	InfoResponseWindow time.Duration `json:"info_response_window"`
	MaxAppeals         int           `json:"max_appeals"`
	// ConfirmSuspension asks a reviewer to confirm an account suspension before it
	// takes effect; ConfirmationSLA is how long they have before it is escalated.
	ConfirmSuspension bool          `json:"confirm_suspension,omitempty"`
	ConfirmationSLA   time.Duration `json:"confirmation_sla,omitempty"`
	// ClaimTTL is how long a reviewer's claim on an appeal or a confirmation holds.
	ClaimTTL time.Duration `json:"claim_ttl,omitempty"`
}

// EvaluationPolicy holds how sellers are swept.
type EvaluationPolicy struct {
	SweepInterval time.Duration `json:"sweep_interval"` // 0 turns the scheduled sweep off
	ShardSize     int           `json:"shard_size"`     // sellers per evaluation activity
}

// MailPolicy holds how long mail is tried.
type MailPolicy struct {
	// GiveUpAfter is how long a mail is retried (from when its delivery began)
	// before it ends failed, for a reviewer to send again.
	GiveUpAfter time.Duration `json:"give_up_after"`
}

// WebhookPolicy holds the timings of deliveries to the marketplace's webhooks.
type WebhookPolicy struct {
	Timeout     time.Duration `json:"timeout"`       // one attempt, from dialling to the answer's end
	FirstRetry  time.Duration `json:"first_retry"`   // the wait after the first failure; it doubles after each
	MaxBackoff  time.Duration `json:"max_backoff"`   // the longest wait between two attempts
	GiveUpAfter time.Duration `json:"give_up_after"` // a delivery still failing this long after its first attempt is failed
}

// Backoff is the wait after the n-th failed attempt (n from 1).
func (w WebhookPolicy) Backoff(n int) time.Duration {
	d := w.FirstRetry
	for i := 1; i < n && d < w.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.MaxBackoff)
}

// Policy is every setting of the rules. DefaultPolicy holds the defaults the README lists.
type Policy struct {
	Metrics    map[MetricID]MetricPolicy `json:"metrics"`
	Cases      CasePolicy                `json:"cases"`
	Evaluation EvaluationPolicy          `json:"evaluation"`
	Tiers      TierPolicy                `json:"tiers"`
	Programs   []ProgramPolicy           `json:"programs"`
	Mail       MailPolicy                `json:"mail"`
	Webhooks   WebhookPolicy             `json:"webhooks"`
}

// DefaultPolicy returns the built-in policy.
func DefaultPolicy() Policy {
	t := func(op Op, v float64) Target { return Target{Op: op, Value: v} }
	return Policy{
		Metrics: map[MetricID]MetricPolicy{
			ODR:                  {Target: t(Less, 0.01), WindowDays: 60, MinDenominator: 10, OnBreach: Suspend},
			CancelRate:           {Target: t(Less, 0.025), WindowDays: 7, MinDenominator: 10, OnBreach: Restrict},
			LateShipmentRate:     {Target: t(Less, 0.04), WindowDays: 30, MinDenominator: 10, OnBreach: Restrict},
			ValidTrackingRate:    {Target: t(GreaterEqual, 0.95), WindowDays: 30, MinDenominator: 10, OnBreach: Restrict},
			OnTimeDeliveryRate:   {Target: t(GreaterEqual, 0.97), WindowDays: 30, MinDenominator: 10, OnBreach: Notify},
			ResponseRate:         {Target: t(GreaterEqual, 0.90), WindowDays: 30, MinDenominator: 10, OnBreach: Notify},
			ReturnRate:           {Target: t(Less, 0.10), WindowDays: 30, MinDenominator: 10, OnBreach: Notify},
			RefundRate:           {Target: t(Less, 0.05), WindowDays: 30, MinDenominator: 10, OnBreach: Notify},
			NegativeFeedbackRate: {Target: t(Less, 0.05), WindowDays: 90, MinDenominator: 10, OnBreach: Notify},
		},
		Cases: CasePolicy{
			WarningGrace:       7 * 24 * time.Hour,
			AppealWindow:       30 * 24 * time.Hour,
			ReviewSLA:          48 * time.Hour,
			InfoResponseWindow: 14 * 24 * time.Hour,
			MaxAppeals:         3,
			ConfirmationSLA:    24 * time.Hour,
			ClaimTTL:           4 * time.Hour,
		},
		Evaluation: EvaluationPolicy{SweepInterval: 24 * time.Hour, ShardSize: 500},
		Tiers:      defaultTiers(),
		Programs:   defaultPrograms(),
		Mail:       MailPolicy{GiveUpAfter: 24 * time.Hour},
		Webhooks:   WebhookPolicy{Timeout: 10 * time.Second, FirstRetry: 5 * time.Second, MaxBackoff: time.Hour, GiveUpAfter: 24 * time.Hour},
	}
}

// PolicyError names the key of a policy file that is wrong and what is wrong with it.
type PolicyError struct {
	Key     string
	Problem string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("policy: %s: %s", e.Key, e.Problem) }

// ParsePolicy reads a YAML policy over the defaults: a file gives only the keys it
// changes. The first problem found is returned as a *PolicyError naming its key.
func ParsePolicy(data []byte) (Policy, error) {
	p := DefaultPolicy()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Policy{}, &PolicyError{"(file)", "not valid YAML: " + err.Error()}
	}
	if len(doc.Content) == 0 { // an empty file changes nothing
		return p, nil
	}
	err := eachKey(doc.Content[0], "", func(key string, v *yaml.Node) error {
		switch key {
		case "metrics":
			return eachKey(v, key, func(id string, m *yaml.Node) error { return applyMetric(&p, id, m) })
		case "cases":
			return eachKey(v, key, func(k string, n *yaml.Node) error { return applyCases(&p.Cases, k, n) })
		case "evaluation":
			return eachKey(v, key, func(k string, n *yaml.Node) error { return applyEvaluation(&p.Evaluation, k, n) })
		case "tiers":
			return eachKey(v, key, func(k string, n *yaml.Node) error { return applyTiers(&p.Tiers, k, n) })
		case "programs":
			return eachKey(v, key, func(k string, n *yaml.Node) error { return applyPrograms(&p.Programs, k, n) })
		case "mail":
			return eachKey(v, key, func(k string, n *yaml.Node) error { return applyMail(&p.Mail, k, n) })
		case "webhooks":
			return eachKey(v, key, func(k string, n *yaml.Node) error { return applyWebhooks(&p.Webhooks, k, n) })
		}
		return &PolicyError{key, "unknown key (known: metrics, cases, evaluation, tiers, programs, mail, webhooks)"}
	})
	if err != nil {
		return Policy{}, err
	}
	if w := p.Webhooks; w.MaxBackoff < w.FirstRetry {
		return Policy{}, &PolicyError{"webhooks.max_backoff", fmt.Sprintf("%s must not be shorter than webhooks.first_retry (%s)", w.MaxBackoff, w.FirstRetry)}
	}
	return p, nil
}

// eachKey calls fn for every key of the mapping n, in file order, with its full name.
func eachKey(n *yaml.Node, prefix string, fn func(key string, v *yaml.Node) error) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" { // a section with every key commented out
		return nil
	}
	if n.Kind != yaml.MappingNode {
		name := prefix
		if name == "" {
			name = "(file)"
		}
		return &PolicyError{name, fmt.Sprintf("must be a mapping of keys (line %d)", n.Line)}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		if prefix != "" {
			key = prefix + "." + key
		}
		if seen[key] {
			return &PolicyError{key, fmt.Sprintf("given twice (line %d)", n.Content[i].Line)}
		}
		seen[key] = true
		if err := fn(key, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func applyMetric(p *Policy, key string, n *yaml.Node) error {
	id := MetricID(strings.TrimPrefix(key, "metrics."))
	mp, ok := p.Metrics[id]
	if !ok {
		return &PolicyError{key, "unknown metric (known: " + metricList() + ")"}
	}
	err := eachKey(n, key, func(k string, v *yaml.Node) error {
		switch k[len(key)+1:] {
		case "target":
			s, err := scalar(k, v)
			if err != nil {
				return err
			}
			t, err := ParseTarget(s)
			if err != nil {
				return &PolicyError{k, err.Error()}
			}
			mp.Target = t
		case "window_days":
			d, err := integer(k, v, 1, 3650)
			if err != nil {
				return err
			}
			mp.WindowDays = int(d)
		case "min_denominator":
			d, err := integer(k, v, 0, 1<<40)
			if err != nil {
				return err
			}
			mp.MinDenominator = d
		case "on_breach":
			s, err := scalar(k, v)
			if err != nil {
				return err
			}
			if a := Action(s); a.valid() {
				mp.OnBreach = a
			} else {
				return &PolicyError{k, fmt.Sprintf("%q must be one of suspend, restrict, notify", s)}
			}
		default:
			return &PolicyError{k, "unknown key (known: target, window_days, min_denominator, on_breach)"}
		}
		return nil
	})
	p.Metrics[id] = mp
	return err
}

func applyCases(c *CasePolicy, key string, v *yaml.Node) error {
	var dst *time.Duration
	switch key {
	case "cases.warning_grace":
		dst = &c.WarningGrace
	case "cases.appeal_window":
		dst = &c.AppealWindow
	case "cases.review_sla":
		dst = &c.ReviewSLA
	case "cases.info_response_window":
		dst = &c.InfoResponseWindow
	case "cases.confirmation_sla":
		dst = &c.ConfirmationSLA
	case "cases.claim_ttl":
		dst = &c.ClaimTTL
	case "cases.confirm_suspension":
		s, err := scalar(key, v)
		if err != nil {
			return err
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return &PolicyError{key, fmt.Sprintf("%q must be true or false", s)}
		}
		c.ConfirmSuspension = b
		return nil
	case "cases.max_appeals":
		n, err := integer(key, v, 1, 100) // a case with no appeal at all would be no fairer than the incumbents
		c.MaxAppeals = int(n)
		return err
	default:
		return &PolicyError{key, "unknown key (known: warning_grace, appeal_window, review_sla, info_response_window, max_appeals, confirm_suspension, confirmation_sla, claim_ttl)"}
	}
	d, err := duration(key, v, false)
	*dst = d
	return err
}

func applyEvaluation(e *EvaluationPolicy, key string, v *yaml.Node) error {
	switch key {
	case "evaluation.sweep_interval":
		d, err := duration(key, v, true)
		e.SweepInterval = d
		return err
	case "evaluation.shard_size":
		n, err := integer(key, v, 1, 100000)
		e.ShardSize = int(n)
		return err
	}
	return &PolicyError{key, "unknown key (known: sweep_interval, shard_size)"}
}

func applyMail(m *MailPolicy, key string, v *yaml.Node) error {
	if key == "mail.give_up_after" {
		d, err := duration(key, v, false)
		m.GiveUpAfter = d
		return err
	}
	return &PolicyError{key, "unknown key (known: give_up_after)"}
}

func applyWebhooks(w *WebhookPolicy, key string, v *yaml.Node) error {
	var dst *time.Duration
	switch key {
	case "webhooks.timeout":
		dst = &w.Timeout
	case "webhooks.first_retry":
		dst = &w.FirstRetry
	case "webhooks.max_backoff":
		dst = &w.MaxBackoff
	case "webhooks.give_up_after":
		dst = &w.GiveUpAfter
	default:
		return &PolicyError{key, "unknown key (known: timeout, first_retry, max_backoff, give_up_after)"}
	}
	d, err := duration(key, v, false)
	*dst = d
	return err
}

func scalar(key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", &PolicyError{key, fmt.Sprintf("must be a single value (line %d)", v.Line)}
	}
	return strings.TrimSpace(v.Value), nil
}

func integer(key string, v *yaml.Node, lo, hi int64) (int64, error) {
	s, err := scalar(key, v)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, &PolicyError{key, fmt.Sprintf("%q must be a whole number from %d to %d", s, lo, hi)}
	}
	return n, nil
}

func duration(key string, v *yaml.Node, zeroOK bool) (time.Duration, error) {
	s, err := scalar(key, v)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &PolicyError{key, fmt.Sprintf("%q is not a Go duration such as 5s, 48h or 720h", s)}
	}
	if d < 0 && zeroOK {
		return 0, &PolicyError{key, "must not be negative (0 turns it off)"}
	}
	if d <= 0 && !zeroOK {
		return 0, &PolicyError{key, "must be positive"}
	}
	return d, nil
}

func metricList() string {
	s := make([]string, len(Metrics))
	for i, m := range Metrics {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

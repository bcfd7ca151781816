package health_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

func TestDefaultPolicyMatchesDomainBrief(t *testing.T) {
	p := health.DefaultPolicy()
	tests := []struct {
		m      health.MetricID
		target health.Target
		days   int
		min    int64
		action health.Action
	}{
		{health.ODR, health.Target{Op: health.Less, Value: 0.01}, 60, 10, health.Suspend},
		{health.CancelRate, health.Target{Op: health.Less, Value: 0.025}, 7, 10, health.Restrict},
		{health.LateShipmentRate, health.Target{Op: health.Less, Value: 0.04}, 30, 10, health.Restrict},
		{health.ValidTrackingRate, health.Target{Op: health.GreaterEqual, Value: 0.95}, 30, 10, health.Restrict},
		{health.OnTimeDeliveryRate, health.Target{Op: health.GreaterEqual, Value: 0.97}, 30, 10, health.Notify},
		{health.ResponseRate, health.Target{Op: health.GreaterEqual, Value: 0.90}, 30, 10, health.Notify},
		{health.ReturnRate, health.Target{Op: health.Less, Value: 0.10}, 30, 10, health.Notify},
		{health.RefundRate, health.Target{Op: health.Less, Value: 0.05}, 30, 10, health.Notify},
		{health.NegativeFeedbackRate, health.Target{Op: health.Less, Value: 0.05}, 90, 10, health.Notify},
	}
	if len(p.Metrics) != len(tests) {
		t.Errorf("DefaultPolicy has %d metrics, want %d", len(p.Metrics), len(tests))
	}
	for _, tt := range tests {
		mp, ok := p.Metrics[tt.m]
		if !ok {
			t.Errorf("DefaultPolicy has no %s", tt.m)
			continue
		}
		want := health.MetricPolicy{Target: tt.target, WindowDays: tt.days, MinDenominator: tt.min, OnBreach: tt.action}
		if mp != want {
			t.Errorf("DefaultPolicy %s = %+v, want %+v", tt.m, mp, want)
		}
		if got := mp.Window(); got != time.Duration(tt.days)*24*time.Hour {
			t.Errorf("%s Window() = %v, want %d days", tt.m, got, tt.days)
		}
	}
	wantCases := health.CasePolicy{
		WarningGrace:       7 * 24 * time.Hour,
		AppealWindow:       30 * 24 * time.Hour,
		ReviewSLA:          48 * time.Hour,
		InfoResponseWindow: 14 * 24 * time.Hour,
		MaxAppeals:         3,
		ConfirmationSLA:    24 * time.Hour,
		ClaimTTL:           4 * time.Hour,
	}
	if p.Cases != wantCases {
		t.Errorf("DefaultPolicy Cases = %+v, want %+v", p.Cases, wantCases)
	}
	// Each call is a fresh policy: changing one must not change the next.
	p.Metrics[health.ODR] = health.MetricPolicy{}
	if health.DefaultPolicy().Metrics[health.ODR].WindowDays != 60 {
		t.Error("DefaultPolicy shares its Metrics map between calls")
	}
}

func TestParsePolicyEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "\n", "   \n\n", "# nothing changed\n", "{}", "metrics: {}\ncases: {}\nevaluation: {}\n"} {
		got, err := health.ParsePolicy([]byte(in))
		if err != nil {
			t.Errorf("ParsePolicy(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, health.DefaultPolicy()) {
			t.Errorf("ParsePolicy(%q) = %+v, want DefaultPolicy", in, got)
		}
	}
}

func TestParsePolicyOneChangeKeepsOtherDefaults(t *testing.T) {
	metric := func(id health.MetricID, f func(*health.MetricPolicy)) func(*health.Policy) {
		return func(p *health.Policy) {
			mp := p.Metrics[id]
			f(&mp)
			p.Metrics[id] = mp
		}
	}
	tests := []struct {
		yaml   string
		change func(*health.Policy)
	}{
		{`metrics: {odr: {target: "< 0.02"}}`, metric(health.ODR, func(m *health.MetricPolicy) { m.Target = health.Target{Op: health.Less, Value: 0.02} })},
		{"metrics:\n  valid_tracking_rate:\n    target: \">= 0.9\"\n", metric(health.ValidTrackingRate, func(m *health.MetricPolicy) { m.Target = health.Target{Op: health.GreaterEqual, Value: 0.9} })},
		{`metrics: {cancel_rate: {window_days: 14}}`, metric(health.CancelRate, func(m *health.MetricPolicy) { m.WindowDays = 14 })},
		{`metrics: {late_shipment_rate: {min_denominator: 0}}`, metric(health.LateShipmentRate, func(m *health.MetricPolicy) { m.MinDenominator = 0 })},
		{`metrics: {response_rate: {on_breach: suspend}}`, metric(health.ResponseRate, func(m *health.MetricPolicy) { m.OnBreach = health.Suspend })},
		{`metrics: {odr: {on_breach: notify}}`, metric(health.ODR, func(m *health.MetricPolicy) { m.OnBreach = health.Notify })},
		{`metrics: {return_rate: {target: "< 0.2", on_breach: restrict}}`, metric(health.ReturnRate, func(m *health.MetricPolicy) {
			m.Target, m.OnBreach = health.Target{Op: health.Less, Value: 0.2}, health.Restrict
		})},
		{`metrics: {refund_rate: {window_days: 60}}`, metric(health.RefundRate, func(m *health.MetricPolicy) { m.WindowDays = 60 })},
		{`metrics: {negative_feedback_rate: {min_denominator: 25}}`, metric(health.NegativeFeedbackRate, func(m *health.MetricPolicy) { m.MinDenominator = 25 })},
		{"cases:\n  warning_grace: 5s\n", func(p *health.Policy) { p.Cases.WarningGrace = 5 * time.Second }},
		{"cases:\n  appeal_window: 10s\n", func(p *health.Policy) { p.Cases.AppealWindow = 10 * time.Second }},
		{"cases:\n  review_sla: 1h30m\n", func(p *health.Policy) { p.Cases.ReviewSLA = 90 * time.Minute }},
		{"cases:\n  info_response_window: \"2s\"\n", func(p *health.Policy) { p.Cases.InfoResponseWindow = 2 * time.Second }},
		{"cases:\n  max_appeals: 1\n", func(p *health.Policy) { p.Cases.MaxAppeals = 1 }},
		{"cases:\n  max_appeals: 100\n", func(p *health.Policy) { p.Cases.MaxAppeals = 100 }},
		{"cases:\n  confirm_suspension: true\n  confirmation_sla: 5s\n", func(p *health.Policy) {
			p.Cases.ConfirmSuspension, p.Cases.ConfirmationSLA = true, 5*time.Second
		}},
		{"cases:\n  claim_ttl: 30m\n", func(p *health.Policy) { p.Cases.ClaimTTL = 30 * time.Minute }},
		{"evaluation:\n  sweep_interval: 0s\n", func(p *health.Policy) { p.Evaluation.SweepInterval = 0 }},
		{"evaluation:\n  sweep_interval: 5s\n", func(p *health.Policy) { p.Evaluation.SweepInterval = 5 * time.Second }},
		{"evaluation:\n  shard_size: 1\n", func(p *health.Policy) { p.Evaluation.ShardSize = 1 }},
	}
	for _, tt := range tests {
		got, err := health.ParsePolicy([]byte(tt.yaml))
		if err != nil {
			t.Errorf("ParsePolicy(%q): %v", tt.yaml, err)
			continue
		}
		want := health.DefaultPolicy()
		tt.change(&want)
		if reflect.DeepEqual(want, health.DefaultPolicy()) {
			t.Fatalf("test case %q changes nothing", tt.yaml)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParsePolicy(%q)\n got %+v\nwant %+v", tt.yaml, got, want)
		}
	}
}

func TestParsePolicyContractExample(t *testing.T) {
	// The README's example policy file, with "5s" for the grace period.
	in := `
metrics:
  odr: {target: "< 0.01", window_days: 60, min_denominator: 10, on_breach: suspend}
  cancel_rate: {target: "< 0.025", window_days: 7, min_denominator: 10, on_breach: restrict}
cases:
  warning_grace: 5s        # Go durations; "5s" must work
  appeal_window: 720h
  review_sla: 48h
  info_response_window: 336h
  max_appeals: 3
`
	got, err := health.ParsePolicy([]byte(in))
	if err != nil {
		t.Fatalf("ParsePolicy(contract example): %v", err)
	}
	want := health.DefaultPolicy()
	want.Cases.WarningGrace = 5 * time.Second
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePolicy(contract example)\n got %+v\nwant %+v", got, want)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		key     string
		problem string // a fragment the problem must contain
	}{
		{"target without operator", `metrics: {odr: {target: "0.01"}}`, "metrics.odr.target", "must start with one of"},
		{"target as a number", `metrics: {odr: {target: 0.01}}`, "metrics.odr.target", "must start with one of"},
		{"target out of range", `metrics: {odr: {target: "< 1.5"}}`, "metrics.odr.target", "between 0 and 1"},
		{"target not a number", `metrics: {valid_tracking_rate: {target: ">= abc"}}`, "metrics.valid_tracking_rate.target", "followed by a number"},
		{"target a list", `metrics: {odr: {target: ["<", 0.01]}}`, "metrics.odr.target", "must be a single value"},
		{"window_days 0", `metrics: {odr: {window_days: 0}}`, "metrics.odr.window_days", "whole number from 1 to 3650"},
		{"window_days text", `metrics: {odr: {window_days: sixty}}`, "metrics.odr.window_days", `"sixty"`},
		{"window_days fraction", `metrics: {odr: {window_days: 7.5}}`, "metrics.odr.window_days", "whole number"},
		{"window_days too big", `metrics: {cancel_rate: {window_days: 3651}}`, "metrics.cancel_rate.window_days", "from 1 to 3650"},
		{"min_denominator negative", `metrics: {odr: {min_denominator: -1}}`, "metrics.odr.min_denominator", "whole number from 0"},
		{"on_breach ban", `metrics: {odr: {on_breach: ban}}`, "metrics.odr.on_breach", `"ban" must be one of suspend, restrict, notify`},
		{"on_breach capitalised", `metrics: {odr: {on_breach: Suspend}}`, "metrics.odr.on_breach", "must be one of"},
		{"on_breach a list", `metrics: {odr: {on_breach: [suspend]}}`, "metrics.odr.on_breach", "must be a single value"},
		{"min_denominator a mapping", `metrics: {odr: {min_denominator: {n: 1}}}`, "metrics.odr.min_denominator", "must be a single value"},
		{"max_appeals a list", "cases:\n  max_appeals: [3]\n", "cases.max_appeals", "must be a single value"},
		{"unknown metric", `metrics: {foo: {target: "< 0.5"}}`, "metrics.foo", "unknown metric"},
		{"webhook timeout zero", `webhooks: {timeout: 0s}`, "webhooks.timeout", "must be positive"},
		{"webhook retry not a duration", `webhooks: {first_retry: soon}`, "webhooks.first_retry", "not a Go duration"},
		{"webhook unknown key", `webhooks: {retries: 3}`, "webhooks.retries", "unknown key"},
		{"webhook backoff below first retry", `webhooks: {first_retry: 10m, max_backoff: 1m}`, "webhooks.max_backoff", "must not be shorter"},
		{"unknown metric key", `metrics: {odr: {threshold: 0.5}}`, "metrics.odr.threshold", "unknown key"},
		{"metric not a mapping", `metrics: {odr: "< 0.01"}`, "metrics.odr", "must be a mapping"},
		{"metric a list", "metrics:\n  odr:\n    - target\n", "metrics.odr", "must be a mapping"},
		{"metrics a list", "metrics:\n  - odr\n  - cancel_rate\n", "metrics", "must be a mapping"},
		{"metrics a list of mappings", "metrics:\n  - odr: {target: \"< 0.02\"}\n", "metrics", "must be a mapping"},
		{"warning_grace not a duration", "cases:\n  warning_grace: 7d\n", "cases.warning_grace", "not a Go duration"},
		{"warning_grace bare number", "cases:\n  warning_grace: 5\n", "cases.warning_grace", "not a Go duration"},
		{"warning_grace zero", "cases:\n  warning_grace: 0s\n", "cases.warning_grace", "must be positive"},
		{"warning_grace negative", "cases:\n  warning_grace: -1h\n", "cases.warning_grace", "must be positive"},
		{"appeal_window text", "cases:\n  appeal_window: month\n", "cases.appeal_window", "not a Go duration"},
		{"review_sla zero", "cases:\n  review_sla: 0h\n", "cases.review_sla", "must be positive"},
		{"info_response_window a mapping", "cases:\n  info_response_window: {h: 1}\n", "cases.info_response_window", "must be a single value"},
		{"confirm_suspension not a bool", "cases:\n  confirm_suspension: maybe\n", "cases.confirm_suspension", "true or false"},
		{"confirmation_sla zero", "cases:\n  confirmation_sla: 0s\n", "cases.confirmation_sla", "must be positive"},
		{"max_appeals text", "cases:\n  max_appeals: three\n", "cases.max_appeals", "whole number from 1 to 100"},
		{"max_appeals negative", "cases:\n  max_appeals: -1\n", "cases.max_appeals", "whole number"},
		{"max_appeals too big", "cases:\n  max_appeals: 101\n", "cases.max_appeals", "from 1 to 100"},
		{"max_appeals zero: no appeal at all is not allowed", "cases:\n  max_appeals: 0\n", "cases.max_appeals", "from 1 to 100"},
		{"unknown cases key", "cases:\n  bogus: 1\n", "cases.bogus", "unknown key"},
		{"cases a list", "cases:\n  - warning_grace\n", "cases", "must be a mapping"},
		{"sweep_interval text", "evaluation:\n  sweep_interval: daily\n", "evaluation.sweep_interval", "not a Go duration"},
		{"sweep_interval negative", "evaluation:\n  sweep_interval: -5s\n", "evaluation.sweep_interval", "must not be negative"},
		{"shard_size zero", "evaluation:\n  shard_size: 0\n", "evaluation.shard_size", "from 1 to 100000"},
		{"unknown evaluation key", "evaluation:\n  cron: daily\n", "evaluation.cron", "unknown key"},
		{"unknown top-level key", "colour: blue\n", "colour", "unknown key"},
		{"top-level scalar", "hello\n", "(file)", "must be a mapping"},
		{"top-level list", "- metrics\n", "(file)", "must be a mapping"},
		{"invalid YAML", "metrics: {odr: [\n", "(file)", "not valid YAML"},
		{"invalid YAML tab indent", "cases:\n\twarning_grace: 5s\n", "(file)", "not valid YAML"},
		// The first problem in file order is the one reported.
		{"first problem wins", "cases:\n  max_appeals: 2\n  warning_grace: soon\n  bogus: 1\n", "cases.warning_grace", "not a Go duration"},
		{"later key after valid ones", "metrics: {odr: {target: \"< 0.02\", window_days: 30, on_breach: ban}}", "metrics.odr.on_breach", "must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := health.ParsePolicy([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParsePolicy(%q) = %+v, nil; want a *PolicyError for %s", tt.yaml, got, tt.key)
			}
			var pe *health.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy(%q) error %T %v, want a *PolicyError", tt.yaml, err, err)
			}
			if pe.Key != tt.key {
				t.Errorf("ParsePolicy(%q) error key = %q, want %q (error: %v)", tt.yaml, pe.Key, tt.key, err)
			}
			if !strings.Contains(pe.Problem, tt.problem) {
				t.Errorf("ParsePolicy(%q) problem = %q, want it to say %q", tt.yaml, pe.Problem, tt.problem)
			}
			// The message a person sees at start-up names both.
			if msg := err.Error(); !strings.Contains(msg, tt.key) || !strings.Contains(msg, pe.Problem) {
				t.Errorf("Error() = %q: must name the key %q and the problem", msg, tt.key)
			}
			// A failed parse returns no half-applied policy.
			if !reflect.DeepEqual(got, health.Policy{}) {
				t.Errorf("ParsePolicy(%q) returned %+v with its error, want the zero Policy", tt.yaml, got)
			}
		})
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	err := &health.PolicyError{Key: "cases.max_appeals", Problem: `"x" must be a whole number from 0 to 100`}
	if got, want := err.Error(), `policy: cases.max_appeals: "x" must be a whole number from 0 to 100`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEnforcementFor(t *testing.T) {
	tests := map[health.Action]health.Enforcement{
		health.Suspend:  health.AccountSuspension,
		health.Restrict: health.OfferRestriction,
		health.Notify:   health.NoEnforcement,
		"":              health.NoEnforcement,
		"ban":           health.NoEnforcement,
	}
	for a, want := range tests {
		if got := health.EnforcementFor(a); got != want {
			t.Errorf("EnforcementFor(%q) = %q, want %q", a, got, want)
		}
	}
}

func TestParsePolicyEdges(t *testing.T) {
	if p, err := health.ParsePolicy([]byte("cases:\n  # warning_grace: 5s\n")); err != nil || !reflect.DeepEqual(p, health.DefaultPolicy()) {
		t.Errorf("a section with every key commented out: %v, want the defaults", err)
	}
	_, err := health.ParsePolicy([]byte("cases: {max_appeals: 3, max_appeals: 5}"))
	var pe *health.PolicyError
	if !errors.As(err, &pe) || pe.Key != "cases.max_appeals" || !strings.Contains(pe.Problem, "twice") {
		t.Errorf("a key given twice: %v, want a PolicyError naming cases.max_appeals", err)
	}
}

func TestWebhookPolicy(t *testing.T) {
	p, err := health.ParsePolicy([]byte("webhooks: {timeout: 2s, first_retry: 1s, max_backoff: 5s, give_up_after: 1h}"))
	if err != nil {
		t.Fatal(err)
	}
	w := p.Webhooks
	if w.Timeout != 2*time.Second || w.GiveUpAfter != time.Hour {
		t.Fatalf("parsed %+v", w)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, d := range want {
		if got := w.Backoff(i + 1); got != d {
			t.Errorf("backoff after %d failures = %s, want %s", i+1, got, d)
		}
	}
	d := health.DefaultPolicy().Webhooks
	if d.Timeout != 10*time.Second || d.FirstRetry != 5*time.Second || d.MaxBackoff != time.Hour || d.GiveUpAfter != 24*time.Hour {
		t.Fatalf("default %+v", d)
	}
}

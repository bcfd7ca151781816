package health_test

import (
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/health"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want health.Target
	}{
		{"< 0.01", health.Target{Op: health.Less, Value: 0.01}},
		{"<=0.5", health.Target{Op: health.LessEqual, Value: 0.5}},
		{">= 0.95", health.Target{Op: health.GreaterEqual, Value: 0.95}},
		{" > 0 ", health.Target{Op: health.Greater, Value: 0}},
		{">=0.97", health.Target{Op: health.GreaterEqual, Value: 0.97}},
		{"<   1", health.Target{Op: health.Less, Value: 1}},    // the upper bound itself is allowed
		{"> 0.0", health.Target{Op: health.Greater, Value: 0}}, // and the lower one
	}
	for _, tt := range tests {
		got, err := health.ParseTarget(tt.in)
		if err != nil {
			t.Errorf("ParseTarget(%q): unexpected error %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseTargetRejects(t *testing.T) {
	tests := []struct {
		in      string
		problem string // a fragment the message must contain
	}{
		{"0.01", "must start with one of"},
		{"=< 1", "must start with one of"},
		{"", "must start with one of"},
		{"  ", "must start with one of"},
		{"== 0.5", "must start with one of"},
		{"< abc", "followed by a number"},
		{"<", "followed by a number"},
		{">=", "followed by a number"},
		{"<< 0.5", "followed by a number"},
		{"< 0.5 extra", "followed by a number"},
		{"< 1.5", "between 0 and 1"},
		{"<= 1.0000001", "between 0 and 1"},
		{"> -0.1", "between 0 and 1"},
		{"< Inf", "between 0 and 1"},
	}
	for _, tt := range tests {
		got, err := health.ParseTarget(tt.in)
		if err == nil {
			t.Errorf("ParseTarget(%q) = %+v, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.problem) {
			t.Errorf("ParseTarget(%q) error %q does not say %q", tt.in, err, tt.problem)
		}
		if got != (health.Target{}) {
			t.Errorf("ParseTarget(%q) returned %+v with its error, want the zero Target", tt.in, got)
		}
	}
}

// strconv.ParseFloat accepts "NaN", which no range check catches by comparison;
// a NaN target is never met, so it would judge every seller "bad".
func TestParseTargetRejectsNaN(t *testing.T) {
	for _, in := range []string{"< NaN", "<= nan", ">= NAN"} {
		if got, err := health.ParseTarget(in); err == nil {
			t.Errorf("ParseTarget(%q) = %+v, nil; want an error (NaN is not between 0 and 1)", in, got)
		}
	}
	// The same hole reaches start-up: a policy file with a NaN target is accepted.
	in := `metrics: {odr: {target: "< NaN"}}`
	if p, err := health.ParsePolicy([]byte(in)); err == nil {
		t.Errorf("ParsePolicy(%q) accepted odr target %+v; want a *PolicyError for metrics.odr.target", in, p.Metrics[health.ODR].Target)
	}
}

func TestTargetMet(t *testing.T) {
	const eps = 1e-9
	tests := []struct {
		target            string
		under, at, over   float64
		wantUnder, wantAt bool
		wantOver          bool
	}{
		{"< 0.01", 0.01 - eps, 0.01, 0.01 + eps, true, false, false},
		{"<= 0.01", 0.01 - eps, 0.01, 0.01 + eps, true, true, false},
		{"> 0.95", 0.95 - eps, 0.95, 0.95 + eps, false, false, true},
		{">= 0.95", 0.95 - eps, 0.95, 0.95 + eps, false, true, true},
	}
	for _, tt := range tests {
		tg, err := health.ParseTarget(tt.target)
		if err != nil {
			t.Fatalf("ParseTarget(%q): %v", tt.target, err)
		}
		for _, c := range []struct {
			v    float64
			want bool
			name string
		}{{tt.under, tt.wantUnder, "just under"}, {tt.at, tt.wantAt, "at"}, {tt.over, tt.wantOver, "just over"}} {
			if got := tg.Met(c.v); got != c.want {
				t.Errorf("%q.Met(%v) (%s the value) = %v, want %v", tt.target, c.v, c.name, got, c.want)
			}
		}
	}
}

func TestTargetMetUnknownOp(t *testing.T) {
	// A Target that did not come from ParseTarget is never met: an unknown operator
	// must not be read as "good".
	for _, v := range []float64{0, 0.5, 1} {
		if (health.Target{Op: "!=", Value: 0.5}).Met(v) {
			t.Errorf("Target{!=, 0.5}.Met(%v) = true, want false", v)
		}
		if (health.Target{}).Met(v) {
			t.Errorf("zero Target.Met(%v) = true, want false", v)
		}
	}
}

func TestTargetString(t *testing.T) {
	for in, want := range map[string]string{"< 0.01": "< 0.01", ">=0.95": ">= 0.95", " <=  0.5": "<= 0.5", "> 0": "> 0"} {
		tg, err := health.ParseTarget(in)
		if err != nil {
			t.Fatalf("ParseTarget(%q): %v", in, err)
		}
		if got := tg.String(); got != want {
			t.Errorf("ParseTarget(%q).String() = %q, want %q", in, got, want)
		}
		// What String prints parses back to the same target.
		back, err := health.ParseTarget(tg.String())
		if err != nil || back != tg {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tg.String(), back, err, tg)
		}
	}
}

func TestJudge(t *testing.T) {
	lt := func(v float64) health.Target { return health.Target{Op: health.Less, Value: v} }
	ge := func(v float64) health.Target { return health.Target{Op: health.GreaterEqual, Value: v} }
	tests := []struct {
		name      string
		policy    health.MetricPolicy
		num, den  int64
		wantValue float64 // ignored when wantNil
		wantNil   bool
		want      health.Status
	}{
		{"< 0.01 exactly at the target is bad", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 1, 100, 0.01, false, health.Bad},
		{"< 0.01 just under is good", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 1, 101, 1.0 / 101, false, health.Good},
		{"< 0.01 zero defects is good", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 0, 100, 0, false, health.Good},
		{">= 0.95 exactly at the target is good", health.MetricPolicy{Target: ge(0.95), MinDenominator: 10}, 95, 100, 0.95, false, health.Good},
		{">= 0.95 just under is bad", health.MetricPolicy{Target: ge(0.95), MinDenominator: 10}, 94, 100, 0.94, false, health.Bad},
		{">= 0.97 exactly at 97/100 is good", health.MetricPolicy{Target: ge(0.97), MinDenominator: 10}, 97, 100, 0.97, false, health.Good},
		{"one under the minimum: terrible value, still insufficient", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 9, 9, 1, false, health.InsufficientData},
		{"3 orders 1 claim is not a breach", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 1, 3, 1.0 / 3, false, health.InsufficientData},
		{"one under the minimum on a >= metric", health.MetricPolicy{Target: ge(0.95), MinDenominator: 10}, 0, 9, 0, false, health.InsufficientData},
		{"exactly at the minimum is judged bad", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 1, 10, 0.1, false, health.Bad},
		{"exactly at the minimum is judged good", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 0, 10, 0, false, health.Good},
		{"denominator 0: no value, insufficient", health.MetricPolicy{Target: lt(0.01), MinDenominator: 10}, 0, 0, 0, true, health.InsufficientData},
		{"denominator 0 with minimum 0: no value, insufficient", health.MetricPolicy{Target: lt(0.01), MinDenominator: 0}, 0, 0, 0, true, health.InsufficientData},
		{"denominator 0 with minimum 0 on a >= metric", health.MetricPolicy{Target: ge(0.95), MinDenominator: 0}, 0, 0, 0, true, health.InsufficientData},
		{"minimum 0 judges a single order", health.MetricPolicy{Target: lt(0.01), MinDenominator: 0}, 1, 1, 1, false, health.Bad},
		{"minimum 1 judges a single order", health.MetricPolicy{Target: ge(0.95), MinDenominator: 1}, 1, 1, 1, false, health.Good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, st := tt.policy.Judge(tt.num, tt.den)
			if st != tt.want {
				t.Errorf("Judge(%d, %d) status = %q, want %q", tt.num, tt.den, st, tt.want)
			}
			switch {
			case tt.wantNil && v != nil:
				t.Errorf("Judge(%d, %d) value = %v, want nil", tt.num, tt.den, *v)
			case !tt.wantNil && v == nil:
				t.Errorf("Judge(%d, %d) value = nil, want %v", tt.num, tt.den, tt.wantValue)
			case !tt.wantNil && *v != tt.wantValue:
				t.Errorf("Judge(%d, %d) value = %v, want %v", tt.num, tt.den, *v, tt.wantValue)
			}
		})
	}
}

func TestJudgeDefaultPolicyAtTargets(t *testing.T) {
	// Every default metric, exactly at its target on 100 orders: "<" targets are bad
	// there and ">=" targets are good.
	p := health.DefaultPolicy()
	tests := []struct {
		m        health.MetricID
		num      int64
		want     health.Status
		wantOver health.Status // one more in the numerator
	}{
		{health.ODR, 1, health.Bad, health.Bad},
		{health.LateShipmentRate, 4, health.Bad, health.Bad},
		{health.ValidTrackingRate, 95, health.Good, health.Good},
		{health.OnTimeDeliveryRate, 97, health.Good, health.Good},
		{health.ResponseRate, 90, health.Good, health.Good},
	}
	for _, tt := range tests {
		mp := p.Metrics[tt.m]
		if _, st := mp.Judge(tt.num, 100); st != tt.want {
			t.Errorf("%s: Judge(%d, 100) = %q, want %q", tt.m, tt.num, st, tt.want)
		}
		if _, st := mp.Judge(tt.num+1, 100); st != tt.wantOver {
			t.Errorf("%s: Judge(%d, 100) = %q, want %q", tt.m, tt.num+1, st, tt.wantOver)
		}
	}
	// One under the target flips each of them.
	under := map[health.MetricID]struct {
		num  int64
		want health.Status
	}{
		health.ODR:                {0, health.Good},
		health.LateShipmentRate:   {3, health.Good},
		health.ValidTrackingRate:  {94, health.Bad},
		health.OnTimeDeliveryRate: {96, health.Bad},
		health.ResponseRate:       {89, health.Bad},
	}
	for m, c := range under {
		if _, st := p.Metrics[m].Judge(c.num, 100); st != c.want {
			t.Errorf("%s: Judge(%d, 100) = %q, want %q", m, c.num, st, c.want)
		}
	}
	// cancel_rate "< 0.025": 1/40 is exactly at the target.
	if _, st := p.Metrics[health.CancelRate].Judge(1, 40); st != health.Bad {
		t.Errorf("cancel_rate: Judge(1, 40) = %q, want bad", st)
	}
	if _, st := p.Metrics[health.CancelRate].Judge(1, 41); st != health.Good {
		t.Errorf("cancel_rate: Judge(1, 41) = %q, want good", st)
	}
}

func TestMetricIDs(t *testing.T) {
	want := []health.MetricID{"odr", "cancel_rate", "late_shipment_rate", "valid_tracking_rate", "on_time_delivery_rate", "response_rate",
		"return_rate", "refund_rate", "negative_feedback_rate"}
	if len(health.Metrics) != len(want) {
		t.Fatalf("Metrics = %v, want %v", health.Metrics, want)
	}
	for i, m := range want {
		if health.Metrics[i] != m {
			t.Errorf("Metrics[%d] = %q, want %q", i, health.Metrics[i], m)
		}
		if !m.Valid() {
			t.Errorf("MetricID(%q).Valid() = false", m)
		}
		d := health.Define(m)
		if d.Title == "" || d.Numerator == "" || d.Denominator == "" || len(d.Recommendations) == 0 {
			t.Errorf("Define(%q) = %+v: every metric needs a title, a numerator, a denominator and recommendations", m, d)
		}
	}
	for _, m := range []health.MetricID{"", "ODR", "foo", "odr "} {
		if m.Valid() {
			t.Errorf("MetricID(%q).Valid() = true, want false", m)
		}
		if d := health.Define(m); d.Title != "" {
			t.Errorf("Define(%q) = %+v, want the zero Definition", m, d)
		}
	}
}

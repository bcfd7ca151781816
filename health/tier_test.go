package health_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

func TestQuarters(t *testing.T) {
	q, err := health.ParseQuarter("2026-Q3")
	if err != nil || q.String() != "2026-Q3" {
		t.Fatalf("2026-Q3: %v %v", q, err)
	}
	if !q.Start().Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) || !q.End().Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-Q3 is [%v, %v)", q.Start(), q.End())
	}
	if p := (health.Quarter{Year: 2026, Q: 1}).Prev(); p.String() != "2025-Q4" {
		t.Errorf("before 2026-Q1: %s", p)
	}
	if got := health.QuarterOf(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)); got.String() != "2026-Q4" {
		t.Errorf("the last second of 2026 is in %s", got)
	}
	for _, bad := range []string{"2026-Q5", "2026-3", "2026-Q0", "26-Q1", "2026-q1", "", "1999-Q4", "2026-Q1 "} {
		if _, err := health.ParseQuarter(bad); err == nil {
			t.Errorf("%q accepted as a quarter", bad)
		}
	}
}

// counts makes a seller's quarter: n orders, with the given defective counts.
func counts(n, defects, cancels, late, untracked int64) health.WindowCounts {
	return health.WindowCounts{Orders: n, Metrics: map[health.MetricID]health.Fraction{
		health.ODR: {Num: defects, Den: n}, health.CancelRate: {Num: cancels, Den: n},
		health.LateShipmentRate: {Num: late, Den: n}, health.ValidTrackingRate: {Num: n - untracked, Den: n}}}
}

func TestTierJudge(t *testing.T) {
	p := health.DefaultPolicy().Tiers
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		c     health.WindowCounts
		tier  string
		next  string
		gapOn health.MetricID
		fix   int64
	}{
		{"perfect, 400 orders", counts(400, 1, 2, 4, 4), "premium", "", "", 0},
		{"one defect too many for premium", counts(400, 2, 2, 4, 4), "advanced", "premium", health.ODR, 1},
		{"perfect but 60 orders", counts(60, 0, 0, 0, 0), "advanced", "premium", "orders", 40},
		{"late shipments at 3%", counts(200, 0, 0, 6, 0), "standard", "advanced", health.LateShipmentRate, 2},
		{"tracking at 94%", counts(100, 0, 0, 0, 6), "basic", "standard", health.ValidTrackingRate, 1},
		{"no orders at all", health.WindowCounts{}, "standard", "advanced", "orders", 50},
	} {
		s := p.Judge(c.c, end)
		if s.Tier != c.tier {
			t.Errorf("%s: tier %s, want %s", c.name, s.Tier, c.tier)
			continue
		}
		if c.next == "" {
			if s.Next != nil {
				t.Errorf("%s: a next tier above the best: %+v", c.name, s.Next)
			}
			continue
		}
		if s.Next == nil || s.Next.Tier != c.next {
			t.Errorf("%s: next %+v, want %s", c.name, s.Next, c.next)
			continue
		}
		found := false
		for _, g := range s.Next.Gaps {
			if g.Metric == c.gapOn {
				found = true
				if g.OrdersToFix != c.fix || g.Advice == "" {
					t.Errorf("%s: gap %+v, want %d orders to fix", c.name, g, c.fix)
				}
			}
		}
		if !found {
			t.Errorf("%s: no gap on %s in %+v", c.name, c.gapOn, s.Next.Gaps)
		}
	}
	// The introductory period holds everyone at standard, for quarters ending by then.
	p.IntroUntil = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) // intro_until 2026-09-30
	if s := p.Judge(counts(400, 0, 0, 0, 0), end); s.Tier != health.StartTier {
		t.Errorf("within the intro period: %s", s.Tier)
	}
	if s := p.Judge(counts(400, 0, 0, 0, 0), end.AddDate(0, 3, 0)); s.Tier != "premium" {
		t.Errorf("the quarter after the intro period: %s", s.Tier)
	}
}

// Fixing OrdersToFix orders meets the target; one fewer does not.
func TestOrdersToFixIsExact(t *testing.T) {
	for _, tg := range []health.Target{{Op: health.Less, Value: 0.01}, {Op: health.LessEqual, Value: 0.0025}, {Op: health.LessEqual, Value: 0.02},
		{Op: health.GreaterEqual, Value: 0.99}, {Op: health.GreaterEqual, Value: 0.95}, {Op: health.Greater, Value: 0.5}} {
		for den := int64(1); den <= 1000; den += 37 {
			for _, frac := range []float64{0, 0.01, 0.05, 0.3, 0.97, 1} {
				num := int64(frac * float64(den))
				k := health.OrdersToFix(tg, num, den)
				after := num - k
				if tg.Op == health.GreaterEqual || tg.Op == health.Greater {
					after = num + k
				}
				if k < 0 || !tg.Met(float64(after)/float64(den)) && !(after <= 0 || after >= den) {
					t.Errorf("%s with %d of %d: fixing %d gives %d, not met", tg, num, den, k, after)
				}
				if k > 0 {
					before := after + 1
					if tg.Op == health.GreaterEqual || tg.Op == health.Greater {
						before = after - 1
					}
					if tg.Met(float64(before) / float64(den)) {
						t.Errorf("%s with %d of %d: %d to fix, but %d would do", tg, num, den, k, k-1)
					}
				}
			}
		}
	}
}

func TestTierAndProgramPolicyErrors(t *testing.T) {
	for file, key := range map[string]string{
		"tiers: {intro_until: 2027-13-01}": "tiers.intro_until",
		"tiers: {levels: {premium: {min_orders: 10, odr: '<= 0.02'}, standard: {odr: '< 0.01'}, basic: {}}}":  "tiers.levels.premium.odr",
		"tiers: {levels: {premium: {min_orders: 10, odr: '<= x'}, standard: {}, basic: {}}}":                  "tiers.levels.premium.odr",
		"tiers: {levels: {premium: {min_orders: 10}, standard: {min_orders: 50}, basic: {}}}":                 "tiers.levels.premium.min_orders",
		"tiers: {levels: {premium: {}, basic: {}}}":                                                           "tiers.levels",
		"tiers: {levels: {premium: {response_time: '< 0.1'}, standard: {}, basic: {}}}":                       "tiers.levels.premium.response_time",
		"tiers: {levels: {standard: {}, basic: {odr: '< 0.5'}}}":                                              "tiers.levels.basic",
		"tiers: {levels: {premium: {cancel_rate: '<= 0.01'}, standard: {odr: '< 0.01'}, basic: {}}}":          "tiers.levels.premium.odr",
		"programs: {business: {criteria: {odr: '< 0.01', happiness: '> 0.5'}}}":                               "programs.business.criteria.happiness",
		"programs: {business: {criteria: {}}}":                                                                "programs.business.criteria",
		"programs: {Business: {criteria: {odr: '< 0.01'}}}":                                                   "programs.Business",
		"programs: {business: {title: \"\", criteria: {odr: '< 0.01'}}}":                                      "programs.business.title",
		"tiers: {levels: {premium: {benefits: [\"a\\u0000b\"]}, standard: {}, basic: {}}}":                    "tiers.levels.premium.benefits[0]",
		"tiers: {levels: {premium: {min_orders: 100, odr: '<= 0.01'}, standard: {odr: '< 0.01'}, basic: {}}}": "",
	} {
		_, err := health.ParsePolicy([]byte(file))
		var pe *health.PolicyError
		switch {
		case key == "" && err != nil:
			t.Errorf("%s: %v, want it accepted", file, err)
		case key != "" && (!errors.As(err, &pe) || pe.Key != key):
			t.Errorf("%s: %v, want a PolicyError naming %s", file, err, key)
		}
	}
	p, err := health.ParsePolicy([]byte("tiers:\n  intro_until: \"2027-03-31\"\n  levels:\n    gold: {min_orders: 20, odr: \"<= 0.01\", benefits: [\"Free lunch\"]}\n    standard: {odr: \"< 0.02\"}\n    basic: {}\nprograms:\n  export: {title: \"Export club\", window_days: 30, min_orders: 5, criteria: {late_shipment_rate: \"< 0.05\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tiers.Levels) != 3 || p.Tiers.Levels[0].Name != "gold" || p.Tiers.Levels[0].Benefits[0] != "Free lunch" ||
		!p.Tiers.IntroUntil.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("tiers %+v", p.Tiers)
	}
	if len(p.Programs) != 2 || p.Programs[1].Name != "export" || p.Programs[1].Title != "Export club" || p.Programs[0].Name != "business" {
		t.Errorf("programs %+v", p.Programs)
	}
	if !strings.Contains(health.Advice(health.LateShipmentRate, 2, "Advanced"), "2 fewer late shipments") {
		t.Errorf("advice: %s", health.Advice(health.LateShipmentRate, 2, "Advanced"))
	}
}

func TestRecommendRanksBreachesThenTheNextTier(t *testing.T) {
	lt := func(v float64) health.Target { return health.Target{Op: health.Less, Value: v} }
	recs := health.Recommend([]health.Breach{
		{Metric: health.ResponseRate, Target: health.Target{Op: health.GreaterEqual, Value: 0.9}, Numerator: 8, Denominator: 10, Action: health.Notify},
		{Metric: health.LateShipmentRate, Target: lt(0.04), Numerator: 10, Denominator: 100, Action: health.Restrict},
		{Metric: health.ODR, Target: lt(0.01), Numerator: 3, Denominator: 100, Action: health.Suspend},
	}, &health.NextTier{Tier: "advanced", Gaps: []health.Gap{{Metric: health.CancelRate, OrdersToFix: 4, Advice: "4"}, {Metric: "orders", OrdersToFix: 2, Advice: "2"}}})
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s:%d", r.Metric, r.OrdersToFix))
	}
	want := "odr:3 late_shipment_rate:7 response_rate:1 orders:2 cancel_rate:4"
	if strings.Join(got, " ") != want {
		t.Errorf("ranked %v, want %s", got, want)
	}
}

// Every metric's advice names what would change in its own words, not the
// fallback for a metric nobody described.
func TestAdviceNamesEveryMetric(t *testing.T) {
	for _, m := range health.Metrics {
		for _, k := range []int64{1, 2} {
			if a := health.Advice(m, k, "Advanced"); strings.Contains(a, "counted better") {
				t.Errorf("Advice(%s, %d) = %q: no words for the metric", m, k, a)
			}
		}
	}
}

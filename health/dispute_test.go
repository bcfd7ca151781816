package health

import (
	"strings"
	"testing"
	"time"
)

func TestDefectsOfAndDisputeProblem(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { v := now.Add(time.Duration(days) * 24 * time.Hour); return &v }
	placed := now.Add(-10 * 24 * time.Hour)
	base := Order{ID: "o1", SellerID: "s", PlacedAt: placed, ShipBy: placed.Add(24 * time.Hour), DeliverBy: placed.Add(4 * 24 * time.Hour)}
	tests := []struct {
		name   string
		facts  OrderFacts
		want   []Defect
		defect Defect
		field  string
	}{
		{"unshipped past ship_by", OrderFacts{}, []Defect{DefectLateShipment}, DefectLateShipment, ""},
		{"shipped on time, scanned, delivered late", OrderFacts{ShippedAt: at(-10), TrackingNumber: "T", FirstScanAt: at(-9), DeliveredAt: at(-2)},
			[]Defect{DefectLateDelivery}, DefectLateDelivery, ""},
		{"no tracking", OrderFacts{ShippedAt: at(-10), DeliveredAt: at(-8)}, []Defect{DefectInvalidTracking}, DefectNegativeFeedback, "defect"},
		{"4-star feedback is no defect", OrderFacts{ShippedAt: at(-10), TrackingNumber: "T", FirstScanAt: at(-9), DeliveredAt: at(-8), FeedbackAt: at(-7), FeedbackRating: 4},
			nil, "", "order_id"},
		{"denied claim is no defect, chargeback and refund are",
			OrderFacts{ShippedAt: at(-10), TrackingNumber: "T", FirstScanAt: at(-9), DeliveredAt: at(-8), ClaimAt: at(-5), ClaimOutcome: "denied", ChargebackAt: at(-4), SellerRefundAt: at(-3)},
			[]Defect{DefectChargeback, DefectRefund}, DefectAToZClaim, "defect"},
		{"seller cancellation before shipping", OrderFacts{CancelledAt: at(-10), CancelledBy: "seller"}, []Defect{DefectCancellation}, DefectCancellation, ""},
		{"buyer cancellation is no defect", OrderFacts{CancelledAt: at(-10), CancelledBy: "buyer"}, nil, DefectCancellation, "defect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			o.OrderFacts = tt.facts
			has := DefectsOf(o, now)
			if len(has) != len(tt.want) {
				t.Fatalf("defects %v, want %v", has, tt.want)
			}
			for _, d := range tt.want {
				if _, ok := has[d]; !ok {
					t.Errorf("lacks %s: %v", d, has)
				}
			}
			_, field, problem := DisputeProblem(o, tt.defect, now)
			if field != tt.field {
				t.Errorf("dispute of %q: field %q (%s), want %q", tt.defect, field, problem, tt.field)
			}
		})
	}
	t.Run("older than 90 days", func(t *testing.T) {
		o := base
		o.FeedbackAt, o.FeedbackRating = at(-91), 1
		if _, field, _ := DisputeProblem(o, DefectNegativeFeedback, now); field != "defect" {
			t.Errorf("a 91-day-old feedback disputed: field %q", field)
		}
		o.FeedbackAt = at(-89)
		o.ShippedAt, o.TrackingNumber, o.FirstScanAt, o.DeliveredAt = at(-10), "T", at(-9), at(-8)
		covers, field, _ := DisputeProblem(o, "", now)
		if field != "" || len(covers) != 1 || covers[0] != DefectNegativeFeedback {
			t.Errorf("every defect: %v %q", covers, field)
		}
		o.Excused = DefectNegativeFeedback.Bit()
		if _, field, _ := DisputeProblem(o, DefectNegativeFeedback, now); field != "defect" {
			t.Errorf("an excused defect disputed again: field %q", field)
		}
	})
}

func TestPendingConfirmationIsAtRiskAndWithdrawnWeighsNothing(t *testing.T) {
	now := time.Now()
	cs := []CaseStanding{{State: PendingConfirmation, Enforcement: NoEnforcement, OpenedAt: now}, {State: Withdrawn, Enforcement: NoEnforcement, OpenedAt: now}}
	if got := StatusOf(cs); got != AtRiskStatus {
		t.Errorf("status %s, want at_risk", got)
	}
	if p := Penalties(cs[1:], now.Add(-time.Hour)); p != 0 {
		t.Errorf("a withdrawn case takes %d points", p)
	}
}

// TestMetricDefects: the dispute form offers, for every metric of orders, the
// defects it counts, and every defect is offered by some metric.
func TestMetricDefects(t *testing.T) {
	offered := map[Defect]bool{}
	for _, m := range Metrics {
		ds := MetricDefects[m]
		if (len(ds) == 0) != (m == ResponseRate) {
			t.Errorf("%s offers %v", m, ds)
		}
		for _, d := range ds {
			offered[d] = true
		}
	}
	for _, d := range Defects {
		if !offered[d] {
			t.Errorf("no metric offers %s", d)
		}
	}
}

// TestPendingStatement: a case waiting for confirmation is not told it is closed.
func TestPendingStatement(t *testing.T) {
	s := StatementOf(Case{ID: "C-1", Kind: MetricBreach, Metric: ODR, State: PendingConfirmation}, Target{Op: "<", Value: 0.01}, 60)
	if !strings.Contains(s.HowToAppeal, "Nothing is enforced yet") {
		t.Errorf("pending confirmation: %q", s.HowToAppeal)
	}
}

func TestRenewsOnlyANewFeedbackOrANewClaim(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	p := func(t time.Time) *time.Time { return &t }
	judged := OrderFacts{FeedbackAt: p(at), FeedbackRating: 1, ClaimAt: p(at), ClaimOutcome: "open", ChargebackAt: p(at)}
	for _, c := range []struct {
		name   string
		d      Defect
		later  OrderFacts
		filed  *time.Time
		renews bool
	}{
		{"a later feedback", DefectNegativeFeedback, OrderFacts{FeedbackAt: p(at.Add(time.Hour)), FeedbackRating: 2}, nil, true},
		{"a later feedback, even a good one", DefectNegativeFeedback, OrderFacts{FeedbackAt: p(at.Add(time.Hour)), FeedbackRating: 5}, nil, true},
		{"the same feedback again", DefectNegativeFeedback, OrderFacts{FeedbackAt: p(at), FeedbackRating: 1}, nil, false},
		{"another rating at the same instant", DefectNegativeFeedback, OrderFacts{FeedbackAt: p(at), FeedbackRating: 2}, nil, true},
		{"an earlier feedback (does not replace it)", DefectNegativeFeedback, OrderFacts{FeedbackAt: p(at.Add(-time.Hour)), FeedbackRating: 2}, nil, false},
		{"no feedback", DefectNegativeFeedback, OrderFacts{}, nil, false},
		{"the judged claim granted", DefectAToZClaim, OrderFacts{ClaimAt: p(at.Add(time.Hour)), ClaimOutcome: "granted"}, nil, false},
		{"a claim filed again", DefectAToZClaim, OrderFacts{ClaimAt: p(at.Add(2 * time.Hour)), ClaimOutcome: "granted"}, p(at.Add(time.Hour)), true},
		{"an open claim of before", DefectAToZClaim, OrderFacts{}, p(at.Add(-time.Hour)), false},
		{"a chargeback (first counts)", DefectChargeback, OrderFacts{ChargebackAt: p(at.Add(-time.Hour))}, nil, false},
	} {
		if got := Renews(c.d, judged, c.later, c.filed); got != c.renews {
			t.Errorf("%s: renews %v, want %v", c.name, got, c.renews)
		}
		if got := Renews(c.d, judged, c.later, c.filed); got && !c.d.Renewable() {
			t.Errorf("%s: %s renewed but not renewable", c.name, c.d)
		}
	}
}

package health

import (
	"fmt"
	"strings"
	"time"
)

// Defect is one thing wrong with an order that some metric counts; a seller may
// dispute it.
type Defect string

const (
	DefectNegativeFeedback Defect = "negative_feedback"
	DefectAToZClaim        Defect = "a_to_z_claim"
	DefectChargeback       Defect = "chargeback"
	DefectLateShipment     Defect = "late_shipment"
	DefectInvalidTracking  Defect = "invalid_tracking"
	DefectLateDelivery     Defect = "late_delivery"
	DefectCancellation     Defect = "cancellation"
	DefectReturn           Defect = "return"
	DefectRefund           Defect = "refund"
)

// Defects lists every defect, each with its bit in an order's excused defects
// (orders.excused_defects): the metric SQL tests these bits, so they never change.
var Defects = []Defect{DefectNegativeFeedback, DefectAToZClaim, DefectChargeback, DefectLateShipment,
	DefectInvalidTracking, DefectLateDelivery, DefectCancellation, DefectReturn, DefectRefund}

// Bit is the defect's bit in an order's excused defects: 1 << its place in Defects.
func (d Defect) Bit() int {
	for i, x := range Defects {
		if x == d {
			return 1 << i
		}
	}
	return 0
}

// Valid reports whether d is a known defect.
func (d Defect) Valid() bool { return d.Bit() != 0 }

// MetricDefects are the defects each metric counts, in the order a form offers
// them; a metric of messages (response_rate) counts none.
var MetricDefects = map[MetricID][]Defect{
	ODR:                  {DefectNegativeFeedback, DefectAToZClaim, DefectChargeback},
	CancelRate:           {DefectCancellation},
	LateShipmentRate:     {DefectLateShipment},
	ValidTrackingRate:    {DefectInvalidTracking},
	OnTimeDeliveryRate:   {DefectLateDelivery},
	ReturnRate:           {DefectReturn},
	RefundRate:           {DefectRefund},
	NegativeFeedbackRate: {DefectNegativeFeedback},
}

// DisputeReason is a reason a seller's form offers for a dispute.
type DisputeReason struct{ Code, Text string }

// DisputeReasons are the reasons the seller's web form offers: the cases the
// marketplace excuses. The API takes any short reason.
var DisputeReasons = []DisputeReason{
	{"outside_seller_control", "A claim or chargeback about something outside my control"},
	{"product_feedback", "The feedback is about the product, not my service"},
	{"carrier_delay", "The carrier caused the delay, not me"},
	{"buyer_error", "The buyer's mistake (wrong item ordered, wrong address given)"},
	{"other", "Another reason, explained in my message"},
}

// DisputeWindow is how long after a defect's event the seller may dispute it.
const DisputeWindow = 90 * 24 * time.Hour

// Order is an order's placement and its facts, as stored.
type Order struct {
	ID, SellerID                string
	PlacedAt, ShipBy, DeliverBy time.Time
	OrderFacts
	Excused int // the bits of the defects removed by upheld disputes
}

// DefectsOf lists the defects the order has as of now, each with the instant of
// the event that made it one, by the rules the metrics count them with.
func DefectsOf(o Order, now time.Time) map[Defect]time.Time {
	out := map[Defect]time.Time{}
	put := func(d Defect, at *time.Time) {
		if at != nil && at.Before(now) {
			out[d] = *at
		}
	}
	if o.FeedbackAt != nil && (o.FeedbackRating == 1 || o.FeedbackRating == 2) {
		put(DefectNegativeFeedback, o.FeedbackAt)
	}
	if o.ClaimAt != nil && o.ClaimOutcome != "" && o.ClaimOutcome != "denied" {
		put(DefectAToZClaim, o.ClaimAt)
	}
	put(DefectChargeback, o.ChargebackAt)
	cancelledBeforeShipping := o.CancelledAt != nil && o.CancelledAt.Before(now) && (o.ShippedAt == nil || o.CancelledAt.Before(*o.ShippedAt))
	if cancelledBeforeShipping && (o.CancelledBy == "seller" || o.CancelledBy == "expired") {
		put(DefectCancellation, o.CancelledAt)
	}
	if !cancelledBeforeShipping {
		if o.ShippedAt == nil && o.ShipBy.Before(now) {
			put(DefectLateShipment, &o.ShipBy)
		} else if o.ShippedAt != nil && o.ShippedAt.After(o.ShipBy) {
			put(DefectLateShipment, o.ShippedAt)
		}
	}
	if o.ShippedAt != nil && (o.TrackingNumber == "" || o.FirstScanAt == nil) {
		put(DefectInvalidTracking, o.ShippedAt)
	}
	if o.FirstScanAt != nil && o.DeliverBy.Before(now) && (o.DeliveredAt == nil || o.DeliveredAt.After(o.DeliverBy)) {
		put(DefectLateDelivery, &o.DeliverBy)
	}
	if o.DeliveredAt != nil {
		put(DefectReturn, o.ReturnedAt)
	}
	put(DefectRefund, o.SellerRefundAt)
	return out
}

// DisputeProblem says why a dispute of order o's defect d (all when empty) is not
// taken now, naming the field; or, with no problem, the defects it covers (those
// not already excused). A defect already disputed is the caller's to refuse.
func DisputeProblem(o Order, d Defect, now time.Time) (covers []Defect, field, problem string) {
	has := DefectsOf(o, now)
	late := func(at time.Time) bool { return now.Sub(at) > DisputeWindow }
	if d != "" {
		at, ok := has[d]
		switch {
		case !d.Valid():
			return nil, "defect", "must be one of " + joinDefects(Defects)
		case !ok:
			return nil, "defect", fmt.Sprintf("order %s has no %s", o.ID, strings.ReplaceAll(string(d), "_", " "))
		case late(at):
			return nil, "defect", fmt.Sprintf("the %s was on %s, more than 90 days ago; it can no longer be disputed",
				strings.ReplaceAll(string(d), "_", " "), at.UTC().Format("2 Jan 2006"))
		case o.Excused&d.Bit() != 0:
			return nil, "defect", "already removed by an upheld dispute"
		}
		return []Defect{d}, "", ""
	}
	var old []Defect
	for _, x := range Defects {
		at, ok := has[x]
		switch {
		case !ok || o.Excused&x.Bit() != 0:
		case late(at):
			old = append(old, x)
		default:
			covers = append(covers, x)
		}
	}
	switch {
	case len(covers) > 0:
		return covers, "", ""
	case len(old) > 0:
		return nil, "defect", "every defect of this order (" + joinDefects(old) + ") is more than 90 days old; none can be disputed"
	}
	return nil, "order_id", fmt.Sprintf("order %s has no defect to dispute", o.ID)
}

// DefectMask is the bits of ds.
func DefectMask(ds []Defect) int {
	m := 0
	for _, d := range ds {
		m |= d.Bit()
	}
	return m
}

func joinDefects(ds []Defect) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}

// ValidateDispute checks a seller's dispute: a short reason (a code or a few
// words) and a message saying what happened.
func ValidateDispute(d Defect, reason, message string) Problems {
	p := Problems{}
	if d != "" && !d.Valid() {
		p["defect"] = "must be one of " + joinDefects(Defects) + ", or left out to dispute every defect of the order"
	}
	switch n := Length(strings.TrimSpace(reason)); {
	case n == 0:
		p["reason"] = "is required: why the defect is not yours (e.g. buyer_abuse, carrier_error)"
	case n > 500:
		p["reason"] = "is too long; at most 500 characters"
	}
	switch n := Length(strings.TrimSpace(message)); {
	case n == 0:
		p["message"] = "is required: say what happened, in your own words"
	case n > POAMax:
		p["message"] = fmt.Sprintf("is too long; at most %d characters", POAMax)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// Metrics lists the metrics that count defect d: an upheld dispute takes the
// order out of each of them (as a defect; the order still counts where it is
// only part of the denominator).
func (d Defect) Metrics() []MetricID {
	switch d {
	case DefectNegativeFeedback:
		return []MetricID{ODR, NegativeFeedbackRate}
	case DefectAToZClaim, DefectChargeback:
		return []MetricID{ODR}
	case DefectLateShipment:
		return []MetricID{LateShipmentRate}
	case DefectInvalidTracking:
		return []MetricID{ValidTrackingRate}
	case DefectLateDelivery:
		return []MetricID{OnTimeDeliveryRate}
	case DefectCancellation:
		return []MetricID{CancelRate}
	case DefectReturn:
		return []MetricID{ReturnRate}
	case DefectRefund:
		return []MetricID{RefundRate}
	}
	return nil
}

// Renewable reports whether a later event can replace the fact behind defect d
// with a new one: the buyer's feedback (the latest rating counts) and the A-to-z
// claim (a claim filed again, outcome open, later than the one judged). An upheld
// dispute excuses the fact the reviewer judged, not its successor: when such an
// event replaces it, the excuse ends, the new fact counts, and the seller may
// dispute it anew. The other defects are the order's first shipment, scan,
// delivery, cancellation, chargeback, return or refund: a later event does not
// replace them, so their excuse stands.
func (d Defect) Renewable() bool { return d == DefectNegativeFeedback || d == DefectAToZClaim }

// Renews reports whether later events of an order (folded as later, claimFiledAt
// the latest instant among them of a claim filed, outcome open) replace the fact
// behind defect d that a decided dispute judged, in judged, with a new one: a
// feedback later than the one judged, or at its instant with another rating;
// a claim filed after the one judged. Only a renewable defect is ever renewed.
func Renews(d Defect, judged, later OrderFacts, claimFiledAt *time.Time) bool {
	switch d {
	case DefectNegativeFeedback:
		if judged.FeedbackAt == nil || later.FeedbackAt == nil {
			return false
		}
		return later.FeedbackAt.After(*judged.FeedbackAt) ||
			(later.FeedbackAt.Equal(*judged.FeedbackAt) && later.FeedbackRating != judged.FeedbackRating)
	case DefectAToZClaim:
		return judged.ClaimAt != nil && claimFiledAt != nil && claimFiledAt.After(*judged.ClaimAt)
	}
	return false
}

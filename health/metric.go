package health

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MetricID names one performance metric. The zero value is not a metric.
type MetricID string

const (
	ODR                  MetricID = "odr"
	CancelRate           MetricID = "cancel_rate"
	LateShipmentRate     MetricID = "late_shipment_rate"
	ValidTrackingRate    MetricID = "valid_tracking_rate"
	OnTimeDeliveryRate   MetricID = "on_time_delivery_rate"
	ResponseRate         MetricID = "response_rate"
	ReturnRate           MetricID = "return_rate"
	RefundRate           MetricID = "refund_rate"
	NegativeFeedbackRate MetricID = "negative_feedback_rate"
)

// Metrics lists every metric in the order they are shown to people.
var Metrics = []MetricID{ODR, CancelRate, LateShipmentRate, ValidTrackingRate, OnTimeDeliveryRate, ResponseRate,
	ReturnRate, RefundRate, NegativeFeedbackRate}

// ExpiredWindow is how far back a seller's health counts expired orders (those
// the marketplace cancelled because the seller never confirmed them).
const ExpiredWindow = 30 * 24 * time.Hour

// Valid reports whether m is one of Metrics.
func (m MetricID) Valid() bool {
	_, ok := definitions[m]
	return ok
}

// Definition is the human side of a metric: what it counts and what helps.
type Definition struct {
	Title           string
	Numerator       string
	Denominator     string
	Recommendations []string
}

// Define returns the definition of m (the zero Definition for an unknown id).
func Define(m MetricID) Definition { return definitions[m] }

var definitions = map[MetricID]Definition{
	ODR: {
		Title:       "Order Defect Rate",
		Numerator:   "orders with at least one defect: negative feedback (rating 1 or 2), an A-to-z claim not denied, or a chargeback",
		Denominator: "orders placed in the window",
		Recommendations: []string{
			"Answer buyers within 24 hours.",
			"Refund proactively when something went wrong.",
			"Describe your listings accurately.",
			"Pack and ship with care.",
		},
	},
	CancelRate: {
		Title:       "Pre-fulfilment Cancel Rate",
		Numerator:   "orders you cancelled before they shipped, and orders that expired because you never confirmed them",
		Denominator: "orders placed in the window",
		Recommendations: []string{
			"Keep your inventory in sync across every channel.",
			"Check your prices before they go live.",
			"If you must cancel, cancel early and apologise to the buyer.",
		},
	},
	LateShipmentRate: {
		Title:       "Late Shipment Rate",
		Numerator:   "orders not shipped by their ship-by date (shipped late or still unshipped)",
		Denominator: "orders whose ship-by date falls in the window, less those cancelled before shipping",
		Recommendations: []string{
			"Confirm shipment as soon as the package leaves.",
			"Set handling times you can keep.",
			"Prepare staff and stock for peak days.",
		},
	},
	ValidTrackingRate: {
		Title:       "Valid Tracking Rate",
		Numerator:   "shipped orders with a tracking number and at least one carrier scan",
		Denominator: "orders shipped in the window",
		Recommendations: []string{
			"Upload a tracking number for every package.",
			"Use carriers that scan packages on pick-up.",
		},
	},
	OnTimeDeliveryRate: {
		Title:       "On-Time Delivery Rate",
		Numerator:   "tracked orders delivered on or before their deliver-by date",
		Denominator: "orders with a carrier scan whose deliver-by date falls in the window",
		Recommendations: []string{
			"Promise transit times your carriers can meet.",
			"Choose carriers with a reliable delivery record.",
		},
	},
	ResponseRate: {
		Title:       "Response Rate",
		Numerator:   "buyer messages answered within 24 hours (weekends count)",
		Denominator: "buyer messages needing a response, received in the window and at least 24 hours ago",
		Recommendations: []string{
			"Answer every buyer message within 24 hours, weekends included.",
			`Mark messages that need no answer as "no response needed".`,
		},
	},
	ReturnRate: {
		Title:       "Return Rate",
		Numerator:   "delivered orders the buyer returned",
		Denominator: "orders delivered in the window",
		Recommendations: []string{
			"Describe items accurately, with true photos, sizes and materials.",
			"Check every item for defects before you pack it.",
			"Pack so that items arrive undamaged.",
		},
	},
	RefundRate: {
		Title:       "Refund Rate",
		Numerator:   "orders you refunded (a refund by the marketplace does not count)",
		Denominator: "orders placed in the window",
		Recommendations: []string{
			"Keep stock and prices accurate so buyers get what they ordered.",
			"Ship on time with tracking, so fewer orders go missing.",
			"Solve a buyer's problem before it becomes a refund.",
		},
	},
	NegativeFeedbackRate: {
		Title:       "Negative Feedback Rate",
		Numerator:   "orders whose latest feedback is 1 or 2 stars",
		Denominator: "orders placed in the window that have feedback",
		Recommendations: []string{
			"Answer buyers within 24 hours.",
			"Ship on time and describe items accurately.",
			"Ask an unhappy buyer how to make it right: revised feedback counts.",
		},
	},
}

// Op is a comparison of a metric value with its target.
type Op string

const (
	Less         Op = "<"
	LessEqual    Op = "<="
	Greater      Op = ">"
	GreaterEqual Op = ">="
)

// Target is what a metric value must satisfy to be good, e.g. "< 0.01".
type Target struct {
	Op    Op      `json:"op"`
	Value float64 `json:"value"`
}

// ParseTarget reads a target such as "< 0.01" or ">=0.95".
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	var op Op
	for _, o := range []Op{LessEqual, GreaterEqual, Less, Greater} { // two-character operators first
		if strings.HasPrefix(s, string(o)) {
			op = o
			break
		}
	}
	if op == "" {
		return Target{}, fmt.Errorf("%q must start with one of <, <=, >, >=", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s[len(op):]), 64)
	if err != nil {
		return Target{}, fmt.Errorf("%q must be an operator followed by a number", s)
	}
	if math.IsNaN(v) || v < 0 || v > 1 {
		return Target{}, fmt.Errorf("%q: a rate target must be between 0 and 1", s)
	}
	return Target{Op: op, Value: v}, nil
}

func (t Target) String() string { return fmt.Sprintf("%s %g", t.Op, t.Value) }

// Met reports whether v satisfies the target.
func (t Target) Met(v float64) bool {
	switch t.Op {
	case Less:
		return v < t.Value
	case LessEqual:
		return v <= t.Value
	case Greater:
		return v > t.Value
	case GreaterEqual:
		return v >= t.Value
	}
	return false
}

// Status is the verdict on one metric.
type Status string

const (
	Good             Status = "good"
	Bad              Status = "bad"
	InsufficientData Status = "insufficient_data"
)

// Judge turns counts into a value and a verdict. Below the minimum denominator a
// rate says too little to act on, so it is never a breach; value is nil when there
// is nothing to divide by.
func (p MetricPolicy) Judge(numerator, denominator int64) (value *float64, status Status) {
	if denominator > 0 {
		v := float64(numerator) / float64(denominator)
		value = &v
	}
	switch {
	case denominator < p.MinDenominator || value == nil:
		return value, InsufficientData
	case p.Target.Met(*value):
		return value, Good
	default:
		return value, Bad
	}
}

package health

import "time"

// EventType names a marketplace event.
type EventType string

const (
	OrderPlaced     EventType = "order_placed"
	OrderShipped    EventType = "order_shipped"
	TrackingScanned EventType = "tracking_scanned"
	OrderDelivered  EventType = "order_delivered"
	OrderCancelled  EventType = "order_cancelled"
	AToZClaim       EventType = "a_to_z_claim"
	Chargeback      EventType = "chargeback"
	Feedback        EventType = "feedback"
	BuyerMessage    EventType = "buyer_message"
	MessageResponse EventType = "message_response"
	OrderReturned   EventType = "order_returned"
	RefundIssued    EventType = "refund_issued"
)

// Claim outcomes, cancellers and refunders.
const (
	ClaimOpen         = "open"
	ClaimGranted      = "granted"
	ClaimDenied       = "denied"
	CancelledBySeller = "seller"
	CancelledByBuyer  = "buyer"
	// CancelledExpired: the marketplace cancelled an order the seller never
	// confirmed. It counts as the seller's cancellation, and is shown apart.
	CancelledExpired      = "expired"
	RefundedBySeller      = "seller"
	RefundedByMarketplace = "marketplace"
)

// MaxIDLength bounds every identifier an event carries.
const MaxIDLength = 128

// Event is one marketplace event, decoded and checked field by field.
type Event struct {
	ID             string
	Type           EventType
	At             time.Time
	SellerID       string
	OrderID        string
	ShipBy         time.Time
	DeliverBy      time.Time
	TrackingNumber string
	Carrier        string
	By             string
	Outcome        string
	Rating         int
	MessageID      string
	NeedsResponse  bool
}

// RefersToOrder reports whether the event is about an order placed earlier.
func (e Event) RefersToOrder() bool {
	switch e.Type {
	case OrderShipped, TrackingScanned, OrderDelivered, OrderCancelled, AToZClaim, Chargeback, Feedback, OrderReturned, RefundIssued:
		return true
	}
	return false
}

// Problems maps a field name to what is wrong with it.
type Problems map[string]string

package health_test

import (
	"testing"

	"github.com/accounthealth/accounthealth/health"
)

func TestRefersToOrder(t *testing.T) {
	want := map[health.EventType]bool{
		health.OrderPlaced: false, health.OrderShipped: true, health.TrackingScanned: true,
		health.OrderDelivered: true, health.OrderCancelled: true, health.AToZClaim: true,
		health.Chargeback: true, health.Feedback: true, health.BuyerMessage: false,
		health.MessageResponse: false, "": false, "order_refunded": false,
		health.OrderReturned: true, health.RefundIssued: true,
	}
	for typ, w := range want {
		if got := (health.Event{Type: typ}).RefersToOrder(); got != w {
			t.Errorf("Event{Type: %q}.RefersToOrder() = %v, want %v", typ, got, w)
		}
	}
}

package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// order is one generated order: the truth that rows and events are made from.
type order struct {
	ID, Seller                string
	Placed, ShipBy, DeliverBy time.Time
	Shipped, Scanned, Deliv   *time.Time
	Tracking                  string
	Feedback                  int
	Chargeback                bool
}

// dataset is a seeded marketplace: sellers, their orders, and which sellers
// were made to breach the order defect rate.
type dataset struct {
	Sellers  []string
	Orders   []order
	Breaches int
}

// generate makes sellers × orders over the last 60 days. The first
// breachFraction of the sellers have every 10th order defective (a 10% ODR, a
// breach of its 1% target); the rest every 500th (0.2%). Everything else is on
// time and tracked, so the ODR breaches are the only ones: the defects alternate
// between negative feedback and chargebacks, so that a seller's orders with
// feedback (5 of 100) stay under negative_feedback_rate's minimum volume.
func generate(seed uint64, sellers, orders int, breachFraction float64, now time.Time) dataset {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	d := dataset{Sellers: make([]string, sellers), Orders: make([]order, 0, orders)}
	d.Breaches = int(float64(sellers) * breachFraction)
	for s := range sellers {
		d.Sellers[s] = sellerID(s)
		sellerOrders(r, d.Sellers[s], orders/sellers, s < d.Breaches, now, func(o order) { d.Orders = append(d.Orders, o) })
	}
	return d
}

func sellerID(i int) string { return fmt.Sprintf("s%07d", i) }

// sellerOrders makes one seller's orders over the last 60 days and hands each to
// emit: every 10th defective for a seller made to breach, every 500th otherwise.
func sellerOrders(r *rand.Rand, seller string, n int, breach bool, now time.Time, emit func(order)) {
	every := 500
	if breach {
		every = 10
	}
	for o := range n {
		placed := now.Add(-time.Duration(r.Int64N(int64(58*24*time.Hour))) - 2*24*time.Hour).Truncate(time.Second)
		shipped := placed.Add(time.Duration(r.IntN(20)) * time.Hour)
		scanned := shipped.Add(3 * time.Hour)
		delivered := scanned.Add(time.Duration(24+r.IntN(48)) * time.Hour)
		or := order{ID: fmt.Sprintf("%s-%06d", seller, o), Seller: seller, Placed: placed,
			ShipBy: placed.Add(24 * time.Hour), DeliverBy: placed.Add(5 * 24 * time.Hour),
			Shipped: &shipped, Scanned: &scanned, Tracking: "T" + fmt.Sprint(o)}
		if delivered.Before(now) {
			or.Deliv = &delivered
		}
		if o%every == every-1 {
			if (o/every)%2 == 0 {
				or.Feedback = 1
			} else {
				or.Chargeback = true
			}
		}
		emit(or)
	}
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// events tells the orders as marketplace events, as POST /v1/events takes them.
func events(orders []order) []map[string]any {
	out := make([]map[string]any, 0, len(orders)*4)
	for _, o := range orders {
		out = append(out, map[string]any{"id": o.ID + "-p", "type": "order_placed", "at": ts(o.Placed), "seller_id": o.Seller,
			"order_id": o.ID, "ship_by": ts(o.ShipBy), "deliver_by": ts(o.DeliverBy)})
		if o.Shipped != nil {
			out = append(out, map[string]any{"id": o.ID + "-s", "type": "order_shipped", "at": ts(*o.Shipped), "order_id": o.ID, "tracking_number": o.Tracking, "carrier": "UPS"})
		}
		if o.Scanned != nil {
			out = append(out, map[string]any{"id": o.ID + "-c", "type": "tracking_scanned", "at": ts(*o.Scanned), "order_id": o.ID})
		}
		if o.Deliv != nil {
			out = append(out, map[string]any{"id": o.ID + "-d", "type": "order_delivered", "at": ts(*o.Deliv), "order_id": o.ID})
		}
		if o.Feedback > 0 {
			out = append(out, map[string]any{"id": o.ID + "-f", "type": "feedback", "at": ts(o.Placed.Add(48 * time.Hour)), "order_id": o.ID, "rating": o.Feedback})
		}
		if o.Chargeback {
			out = append(out, map[string]any{"id": o.ID + "-b", "type": "chargeback", "at": ts(o.Placed.Add(72 * time.Hour)), "order_id": o.ID})
		}
	}
	return out
}

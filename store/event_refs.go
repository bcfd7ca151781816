package store

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// check finds the references the batch cannot satisfy. The orders that events
// follow up are not looked up when nothing else is wrong: merging the batch
// (updateOrders) finds them anyway and reports any that is missing, so a batch
// streamed in time order, mostly follow-ups, probes their index once, not twice.
func (b batch) check() error {
	var sellers, placed, followed, messages []string
	for _, i := range b.fresh {
		e := b.events[i]
		switch {
		case e.Type == health.OrderPlaced:
			sellers = append(sellers, e.SellerID)
			placed = append(placed, e.OrderID)
		case e.Type == health.BuyerMessage:
			sellers = append(sellers, e.SellerID)
			messages = append(messages, e.MessageID)
		case e.Type == health.MessageResponse:
			messages = append(messages, e.MessageID)
		case e.RefersToOrder():
			followed = append(followed, e.OrderID)
		}
	}
	knownSellers, err := existing(b.tx, b.dialect, "sellers", "id", sellers)
	if err != nil {
		return err
	}
	knownOrders, err := existing(b.tx, b.dialect, "orders", "order_id", placed)
	if err != nil {
		return err
	}
	knownMessages, err := existing(b.tx, b.dialect, "buyer_messages", "message_id", messages)
	if err != nil {
		return err
	}
	// What this batch creates, anywhere in it.
	placedAt, sentAt := map[string]int{}, map[string]int{}
	for _, i := range b.fresh {
		switch e := b.events[i]; e.Type {
		case health.OrderPlaced:
			if _, ok := placedAt[e.OrderID]; !ok {
				placedAt[e.OrderID] = i
			}
		case health.BuyerMessage:
			if _, ok := sentAt[e.MessageID]; !ok {
				sentAt[e.MessageID] = i
			}
		}
	}
	var be BatchError
	for _, i := range b.fresh {
		e := b.events[i]
		switch {
		case e.Type == health.OrderPlaced:
			if !knownSellers[e.SellerID] {
				be.add(i, "seller_id", fmt.Sprintf("no seller %q has been provisioned", e.SellerID))
			}
			if knownOrders[e.OrderID] || placedAt[e.OrderID] != i {
				be.add(i, "order_id", fmt.Sprintf("order %q was already placed by another event", e.OrderID))
			}
		case e.Type == health.BuyerMessage:
			if !knownSellers[e.SellerID] {
				be.add(i, "seller_id", fmt.Sprintf("no seller %q has been provisioned", e.SellerID))
			}
			if knownMessages[e.MessageID] || sentAt[e.MessageID] != i {
				be.add(i, "message_id", fmt.Sprintf("message %q was already received in another event", e.MessageID))
			}
		case e.Type == health.MessageResponse:
			if _, ok := sentAt[e.MessageID]; !ok && !knownMessages[e.MessageID] {
				be.add(i, "message_id", fmt.Sprintf("no buyer_message event for message %q", e.MessageID))
			}
		}
	}
	if be.Problems == nil {
		return nil
	}
	// The batch is rejected: name its unknown orders too, so that the answer lists
	// every problem at once.
	var earlier []string
	for _, id := range followed {
		if _, ok := placedAt[id]; !ok {
			earlier = append(earlier, id)
		}
	}
	knownEarlier, err := existing(b.tx, b.dialect, "orders", "order_id", earlier)
	if err != nil {
		return err
	}
	b.unknownOrders(&be, func(id string) bool { _, ok := placedAt[id]; return ok || knownEarlier[id] })
	return &be
}

// unknownOrders adds a problem for each fresh event about an order that known
// does not know.
func (b batch) unknownOrders(be *BatchError, known func(orderID string) bool) {
	for _, i := range b.fresh {
		if e := b.events[i]; e.RefersToOrder() && !known(e.OrderID) {
			be.add(i, "order_id", fmt.Sprintf("no order_placed event for order %q", e.OrderID))
		}
	}
}

// existing returns which of ids are present in table.column.
func existing(tx *gorm.DB, d Dialect, table, column string, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	ids = distinct(ids)
	if d == Postgres && len(ids) > 0 {
		got, err := pgStrings(tx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ANY($1::text[])", column, table, column), ids)
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", table, err)
		}
		for _, id := range got {
			found[id] = true
		}
		return found, nil
	}
	for _, c := range chunks(len(ids), maxParams(d)) {
		q := fmt.Sprintf("SELECT %s FROM %s WHERE %s IN ?", column, table, column)
		got, err := queryStrings(tx, q, ids[c.from:c.from+c.n])
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", table, err)
		}
		for _, id := range got {
			found[id] = true
		}
	}
	return found, nil
}

package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// IngestResult counts what a batch did.
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// BatchError rejects a whole batch: the problems of each bad event, by its index.
type BatchError struct {
	Problems map[int]health.Problems
}

func (e *BatchError) Error() string {
	idx := make([]int, 0, len(e.Problems))
	for i := range e.Problems {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return fmt.Sprintf("batch rejected: %d bad events, the first at index %d", len(idx), idx[0])
}

func (e *BatchError) add(i int, field, problem string) {
	if e.Problems == nil {
		e.Problems = map[int]health.Problems{}
	}
	if e.Problems[i] == nil {
		e.Problems[i] = health.Problems{}
	}
	e.Problems[i][field] = problem
}

// Ingest stores a batch of well-formed events in one transaction. An event id seen
// before (in an earlier batch or earlier in this one) is a duplicate and changes
// nothing. Events that name an unknown seller, an order nobody placed, or a message
// nobody sent reject the whole batch with a *BatchError, and nothing is stored.
func (s *Store) Ingest(ctx context.Context, events []health.Event, receivedAt time.Time) (IngestResult, error) {
	var res IngestResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		fresh, err := claimEventIDs(tx, s.dialect, events, receivedAt)
		if err != nil {
			return err
		}
		res.Accepted = len(fresh)
		res.Duplicates = len(events) - len(fresh)
		b := batch{tx: tx, dialect: s.dialect, events: events, fresh: fresh}
		if err := b.check(); err != nil {
			return err
		}
		return b.apply()
	})
	if err != nil {
		return IngestResult{}, err
	}
	return res, nil
}

// batch is one Ingest's events inside its transaction.
type batch struct {
	tx      *gorm.DB
	dialect Dialect
	events  []health.Event
	fresh   []int // indexes of the events to apply, in batch order
}

// apply writes what the batch's fresh events say: new orders and messages,
// the merged facts of orders placed before, and message responses.
func (b batch) apply() error {
	var placed, sent []health.Event
	deltas := map[string]*orderDelta{}
	var order []string // order ids in first-seen order, so updates run in a stable order
	responses := map[string]int64{}
	for _, i := range b.fresh {
		e := b.events[i]
		switch e.Type {
		case health.OrderPlaced:
			placed = append(placed, e)
			continue
		case health.BuyerMessage:
			sent = append(sent, e)
			continue
		case health.MessageResponse:
			t := ms(e.At)
			if cur, ok := responses[e.MessageID]; !ok || t < cur {
				responses[e.MessageID] = t
			}
			continue
		}
		d := deltas[e.OrderID]
		if d == nil {
			d = &orderDelta{orderID: e.OrderID}
			deltas[e.OrderID] = d
			order = append(order, e.OrderID)
		}
		d.apply(e)
	}
	// An order placed in this batch gets what the batch says of it in its INSERT:
	// on a new row, merging the delta gives exactly the delta, and the row is then
	// written once instead of inserted and updated.
	if err := b.insertOrders(placed, deltas); err != nil {
		return err
	}
	if err := b.insertMessages(sent); err != nil {
		return err
	}
	list := make([]*orderDelta, 0, len(order))
	for _, id := range order {
		if d := deltas[id]; d != nil {
			list = append(list, d)
		}
	}
	// A new feedback or claim of an order replaces the fact a decided dispute
	// judged: read before the merge, which overwrites what was judged.
	renewed, err := b.renewals(list)
	if err != nil {
		return err
	}
	merged, err := b.updateOrders(list)
	if err != nil {
		return err
	}
	if len(merged) < len(list) {
		// An order followed up was never placed (check left it to this merge):
		// the batch is rejected, and its transaction rolled back.
		found := make(map[string]bool, len(merged))
		for _, id := range merged {
			found[id] = true
		}
		var be BatchError
		b.unknownOrders(&be, func(id string) bool { return found[id] || deltas[id] == nil })
		return &be
	}
	if err := b.renew(renewed); err != nil {
		return err
	}
	return b.respond(responses)
}

func (b batch) insertMessages(sent []health.Event) error {
	return insertRows(b.tx, b.dialect, "buyer_messages", []string{"message_id text", "seller_id text", "received_at bigint", "needs_response boolean"}, len(sent),
		func(i int) []any {
			e := sent[i]
			return []any{e.MessageID, e.SellerID, ms(e.At), e.NeedsResponse}
		})
}

func (b batch) respond(responses map[string]int64) error {
	for id, t := range responses {
		err := b.tx.Exec(`UPDATE buyer_messages SET responded_at = ? WHERE message_id = ? AND (responded_at IS NULL OR responded_at > ?)`,
			t, id, t).Error
		if err != nil {
			return fmt.Errorf("record response to %s: %w", id, err)
		}
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
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

// claimEventIDs records the ids of the batch and returns the indexes of the events
// seen for the first time. ON CONFLICT DO NOTHING makes a concurrent batch with the
// same ids wait for this one and then count them as duplicates.
func claimEventIDs(tx *gorm.DB, d Dialect, events []health.Event, receivedAt time.Time) ([]int, error) {
	first := map[string]int{}
	var unique []int
	for i, e := range events {
		if _, seen := first[e.ID]; !seen {
			first[e.ID] = i
			unique = append(unique, i)
		}
	}
	inserted := map[string]bool{}
	claim := func(ids []string, err error) error {
		if err != nil {
			return fmt.Errorf("record event ids: %w", err)
		}
		for _, id := range ids {
			inserted[id] = true
		}
		return nil
	}
	if d == Postgres {
		// One statement whatever the batch's size: four arrays bound as four
		// parameters cost far less to parse and bind than a VALUES list. In id
		// order, so two batches sharing ids wait for each other instead of
		// deadlocking.
		byID := slices.Clone(unique)
		slices.SortFunc(byID, func(a, b int) int { return strings.Compare(events[a].ID, events[b].ID) })
		ids, types, ats, recv := make([]string, len(unique)), make([]string, len(unique)), make([]int64, len(unique)), make([]int64, len(unique))
		for j, i := range byID {
			e := events[i]
			ids[j], types[j], ats[j], recv[j] = e.ID, string(e.Type), ms(e.At), ms(receivedAt)
		}
		if err := claim(pgClaim(tx, ids, types, ats, recv)); err != nil {
			return nil, err
		}
	} else {
		const cols = 4
		for _, chunk := range chunks(len(unique), maxParams(d)/cols) {
			rows := make([]string, 0, chunk.n)
			args := make([]any, 0, chunk.n*cols)
			for _, i := range unique[chunk.from : chunk.from+chunk.n] {
				e := events[i]
				rows = append(rows, "(?, ?, ?, ?)")
				args = append(args, e.ID, string(e.Type), ms(e.At), ms(receivedAt))
			}
			q := "INSERT INTO processed_events (id, type, at, received_at) VALUES " + strings.Join(rows, ", ") +
				" ON CONFLICT (id) DO NOTHING RETURNING id"
			if err := claim(queryStrings(tx, q, args...)); err != nil {
				return nil, err
			}
		}
	}
	fresh := make([]int, 0, len(inserted))
	for _, i := range unique {
		if inserted[events[i].ID] {
			fresh = append(fresh, i)
		}
	}
	return fresh, nil
}

// pgClaim inserts the ids and returns those that were new. Most batches are all
// new, and a plain INSERT costs half of one with ON CONFLICT … RETURNING: so that
// is tried first, under a savepoint, and only a batch holding a seen id pays for
// the second statement.
func pgClaim(tx *gorm.DB, ids, types []string, ats, recv []int64) ([]string, error) {
	const rows = ` FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`
	pool, ctx := tx.Statement.ConnPool, tx.Statement.Context
	if _, err := pool.ExecContext(ctx, "SAVEPOINT claim"); err != nil {
		return nil, err
	}
	_, err := pool.ExecContext(ctx, `INSERT INTO processed_events (id, type, at, received_at) SELECT *`+rows, ids, types, ats, recv)
	if err == nil {
		_, err = pool.ExecContext(ctx, "RELEASE SAVEPOINT claim")
		return ids, err
	}
	if !isUniqueViolation(err) {
		return nil, err
	}
	if _, err := pool.ExecContext(ctx, "ROLLBACK TO SAVEPOINT claim"); err != nil {
		return nil, err
	}
	return pgStrings(tx, `INSERT INTO processed_events (id, type, at, received_at) SELECT *`+rows+` ON CONFLICT (id) DO NOTHING RETURNING id`,
		ids, types, ats, recv)
}

type batch struct {
	tx      *gorm.DB
	dialect Dialect
	events  []health.Event
	fresh   []int // indexes of the events to apply, in batch order
}

// check finds the references the batch cannot satisfy.
func (b batch) check() error {
	var sellers, orders, messages []string
	for _, i := range b.fresh {
		e := b.events[i]
		switch {
		case e.Type == health.OrderPlaced:
			sellers = append(sellers, e.SellerID)
			orders = append(orders, e.OrderID)
		case e.Type == health.BuyerMessage:
			sellers = append(sellers, e.SellerID)
			messages = append(messages, e.MessageID)
		case e.Type == health.MessageResponse:
			messages = append(messages, e.MessageID)
		case e.RefersToOrder():
			orders = append(orders, e.OrderID)
		}
	}
	knownSellers, err := existing(b.tx, b.dialect, "sellers", "id", sellers)
	if err != nil {
		return err
	}
	knownOrders, err := existing(b.tx, b.dialect, "orders", "order_id", orders)
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
		case e.RefersToOrder():
			if _, ok := placedAt[e.OrderID]; !ok && !knownOrders[e.OrderID] {
				be.add(i, "order_id", fmt.Sprintf("no order_placed event for order %q", e.OrderID))
			}
		}
	}
	if be.Problems != nil {
		return &be
	}
	return nil
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

// orderDelta is everything a batch says about one order, merged by the rules of
// the domain brief: the first shipment, scan, delivery, cancellation and chargeback
// count; for claims and feedback the latest (by when it happened) counts.
type orderDelta struct {
	orderID                  string
	shippedAt                *int64
	tracking, carrier        string
	firstScanAt, deliveredAt *int64
	cancelledAt              *int64
	cancelledBy              string
	claimOutcome             string
	claimAt, chargebackAt    *int64
	feedbackRating           *int
	feedbackAt               *int64
}

func earliest(cur *int64, t int64) *int64 {
	if cur == nil || t < *cur {
		return &t
	}
	return cur
}

func (b batch) apply() error {
	var placed, sent []health.Event
	deltas := map[string]*orderDelta{}
	var order []string // order ids in first-seen order, so updates run in a stable order
	responses := map[string]int64{}
	for _, i := range b.fresh {
		e := b.events[i]
		t := ms(e.At)
		switch e.Type {
		case health.OrderPlaced:
			placed = append(placed, e)
			continue
		case health.BuyerMessage:
			sent = append(sent, e)
			continue
		case health.MessageResponse:
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
		switch e.Type {
		case health.OrderShipped:
			d.shippedAt = earliest(d.shippedAt, t)
			if e.TrackingNumber != "" {
				d.tracking = e.TrackingNumber
			}
			if e.Carrier != "" {
				d.carrier = e.Carrier
			}
		case health.TrackingScanned:
			d.firstScanAt = earliest(d.firstScanAt, t)
		case health.OrderDelivered:
			d.deliveredAt = earliest(d.deliveredAt, t)
		case health.OrderCancelled:
			if d.cancelledAt == nil || t < *d.cancelledAt {
				d.cancelledAt, d.cancelledBy = &t, e.By
			}
		case health.AToZClaim:
			if d.claimAt == nil || t >= *d.claimAt {
				d.claimAt, d.claimOutcome = &t, e.Outcome
			}
		case health.Chargeback:
			d.chargebackAt = earliest(d.chargebackAt, t)
		case health.Feedback:
			if d.feedbackAt == nil || t >= *d.feedbackAt {
				r := e.Rating
				d.feedbackAt, d.feedbackRating = &t, &r
			}
		}
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
	if err := b.updateOrders(list); err != nil {
		return err
	}
	return b.respond(responses)
}

// insertOrders inserts the orders placed in the batch, each with its delta, and
// takes those deltas out of the map: nothing is left to update for them.
func (b batch) insertOrders(placed []health.Event, deltas map[string]*orderDelta) error {
	rowDeltas := make([]*orderDelta, len(placed))
	for i, e := range placed {
		if d := deltas[e.OrderID]; d != nil {
			rowDeltas[i] = d
			delete(deltas, e.OrderID)
		} else {
			rowDeltas[i] = &orderDelta{}
		}
	}
	return insertRows(b.tx, b.dialect, "orders", []string{"order_id text", "seller_id text", "placed_at bigint", "ship_by bigint",
		"deliver_by bigint", "shipped_at bigint", "tracking_number text", "carrier text", "first_scan_at bigint", "delivered_at bigint",
		"cancelled_at bigint", "cancelled_by text", "claim_outcome text", "claim_at bigint", "chargeback_at bigint",
		"feedback_rating integer", "feedback_at bigint"}, len(placed),
		func(i int) []any {
			e, d := placed[i], rowDeltas[i]
			return []any{e.OrderID, e.SellerID, ms(e.At), ms(e.ShipBy), ms(e.DeliverBy),
				d.shippedAt, nullString(d.tracking), nullString(d.carrier), d.firstScanAt, d.deliveredAt, d.cancelledAt,
				nullString(d.cancelledBy), nullString(d.claimOutcome), d.claimAt, d.chargebackAt, d.feedbackRating, d.feedbackAt}
		})
}

func (b batch) insertMessages(sent []health.Event) error {
	return insertRows(b.tx, b.dialect, "buyer_messages", []string{"message_id text", "seller_id text", "received_at bigint", "needs_response boolean"}, len(sent),
		func(i int) []any {
			e := sent[i]
			return []any{e.MessageID, e.SellerID, ms(e.At), e.NeedsResponse}
		})
}

// insertRows inserts n rows into table. Each column is "name type" (the type is
// Postgres's). On Postgres the rows go as one array per column through unnest, a
// statement of as many parameters as columns whatever n is (cheap to parse and
// bind); on SQLite as multi-row VALUES in as few statements as its parameter
// limit allows.
func insertRows(tx *gorm.DB, d Dialect, table string, columns []string, n int, row func(i int) []any) error {
	names, types := make([]string, len(columns)), make([]string, len(columns))
	for j, c := range columns {
		names[j], types[j], _ = strings.Cut(c, " ")
	}
	var err error
	if d == Postgres {
		err = insertArrays(tx, table, names, types, n, row)
	} else {
		err = insertValues(tx, d, table, names, n, row)
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("insert %s: %w", table, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	return nil
}

func insertValues(tx *gorm.DB, d Dialect, table string, names []string, n int, row func(i int) []any) error {
	cols := len(names)
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for _, c := range chunks(n, maxParams(d)/cols) {
		args := make([]any, 0, c.n*cols)
		for i := c.from; i < c.from+c.n; i++ {
			args = append(args, row(i)...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", c.n), ", ")
		if err := tx.Exec(q, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// insertArrays binds each column as a text array (NULLs kept) and casts it back
// to the column's type in SQL, so one Go type serves every column.
func insertArrays(tx *gorm.DB, table string, names, types []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	arrays := make([][]*string, len(names))
	for j := range arrays {
		arrays[j] = make([]*string, n)
	}
	for i := range n {
		for j, v := range row(i) {
			arrays[j][i] = pgText(v)
		}
	}
	sel, params, args := make([]string, len(names)), make([]string, len(names)), make([]any, len(names))
	for j := range names {
		params[j] = fmt.Sprintf("$%d::text[]", j+1)
		sel[j] = fmt.Sprintf("c%d::%s", j+1, types[j])
		args[j] = arrays[j]
	}
	aliases := make([]string, len(names))
	for j := range aliases {
		aliases[j] = fmt.Sprintf("c%d", j+1)
	}
	q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM unnest(" + strings.Join(params, ", ") + ") AS v(" + strings.Join(aliases, ", ") + ")"
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, q, args...)
	return err
}

// pgText is a value in Postgres's text form; nil for NULL.
func pgText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case *string:
		return x
	case int:
		s = strconv.Itoa(x)
	case *int:
		if x == nil {
			return nil
		}
		s = strconv.Itoa(*x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case *int64:
		if x == nil {
			return nil
		}
		s = strconv.FormatInt(*x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case *float64:
		if x == nil {
			return nil
		}
		s = strconv.FormatFloat(*x, 'g', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		panic(fmt.Sprintf("pgText: no text form for %T", v))
	}
	return &s
}

// updateOrdersSQL merges a set of deltas (VALUES columns 1-13) into their orders.
// Both dialects name the columns of a bare VALUES list column1, column2, …
const updateOrdersSQL = `UPDATE orders SET
  shipped_at = CASE WHEN v.column2 IS NOT NULL AND (orders.shipped_at IS NULL OR v.column2 < orders.shipped_at) THEN v.column2 ELSE orders.shipped_at END,
  tracking_number = COALESCE(NULLIF(v.column3, ''), orders.tracking_number),
  carrier = COALESCE(NULLIF(v.column4, ''), orders.carrier),
  first_scan_at = CASE WHEN v.column5 IS NOT NULL AND (orders.first_scan_at IS NULL OR v.column5 < orders.first_scan_at) THEN v.column5 ELSE orders.first_scan_at END,
  delivered_at = CASE WHEN v.column6 IS NOT NULL AND (orders.delivered_at IS NULL OR v.column6 < orders.delivered_at) THEN v.column6 ELSE orders.delivered_at END,
  cancelled_by = CASE WHEN v.column7 IS NOT NULL AND (orders.cancelled_at IS NULL OR v.column7 < orders.cancelled_at) THEN v.column8 ELSE orders.cancelled_by END,
  cancelled_at = CASE WHEN v.column7 IS NOT NULL AND (orders.cancelled_at IS NULL OR v.column7 < orders.cancelled_at) THEN v.column7 ELSE orders.cancelled_at END,
  claim_outcome = CASE WHEN v.column10 IS NOT NULL AND (orders.claim_at IS NULL OR v.column10 >= orders.claim_at) THEN v.column9 ELSE orders.claim_outcome END,
  claim_at = CASE WHEN v.column10 IS NOT NULL AND (orders.claim_at IS NULL OR v.column10 >= orders.claim_at) THEN v.column10 ELSE orders.claim_at END,
  chargeback_at = CASE WHEN v.column11 IS NOT NULL AND (orders.chargeback_at IS NULL OR v.column11 < orders.chargeback_at) THEN v.column11 ELSE orders.chargeback_at END,
  feedback_rating = CASE WHEN v.column13 IS NOT NULL AND (orders.feedback_at IS NULL OR v.column13 >= orders.feedback_at) THEN v.column12 ELSE orders.feedback_rating END,
  feedback_at = CASE WHEN v.column13 IS NOT NULL AND (orders.feedback_at IS NULL OR v.column13 >= orders.feedback_at) THEN v.column13 ELSE orders.feedback_at END
FROM (VALUES %s) AS v
WHERE orders.order_id = v.column1`

const deltaRow = "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), " +
	"CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS BIGINT))"

func (b batch) updateOrders(deltas []*orderDelta) error {
	const cols = 13
	for _, c := range chunks(len(deltas), maxParams(b.dialect)/cols) {
		args := make([]any, 0, c.n*cols)
		for _, d := range deltas[c.from : c.from+c.n] {
			args = append(args, d.orderID, d.shippedAt, nullString(d.tracking), nullString(d.carrier), d.firstScanAt, d.deliveredAt,
				d.cancelledAt, nullString(d.cancelledBy), nullString(d.claimOutcome), d.claimAt, d.chargebackAt, d.feedbackRating, d.feedbackAt)
		}
		q := fmt.Sprintf(updateOrdersSQL, strings.TrimSuffix(strings.Repeat(deltaRow+", ", c.n), ", "))
		if err := b.tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("update orders: %w", err)
		}
	}
	return nil
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

// queryStrings runs a query of one text column. GORM's Scan is avoided on
// purpose: it renders the whole statement with its arguments into a string on
// every call, which for a 10,000-event batch cost more than the query.
func queryStrings(tx *gorm.DB, q string, args ...any) ([]string, error) {
	return scanStrings(tx.Raw(q, args...).Rows())
}

// pgStrings is queryStrings for Postgres on the transaction's own connection,
// past GORM, which would expand slice arguments into lists: here they are bound
// as arrays.
func pgStrings(tx *gorm.DB, q string, args ...any) ([]string, error) {
	return scanStrings(tx.Statement.ConnPool.QueryContext(tx.Statement.Context, q, args...))
}

func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type span struct{ from, n int }

// chunks cuts n items into spans of at most size.
func chunks(n, size int) []span {
	if size < 1 {
		size = 1
	}
	var out []span
	for from := 0; from < n; from += size {
		out = append(out, span{from, min(size, n-from)})
	}
	return out
}

// maxParams is how many bind parameters one statement may carry, with room to spare.
func maxParams(d Dialect) int {
	if d == SQLite {
		return 30000 // SQLITE_MAX_VARIABLE_NUMBER is 32766
	}
	return 60000 // the Postgres protocol counts parameters in 16 bits
}

func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

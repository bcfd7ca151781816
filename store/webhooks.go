package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// Webhook is an endpoint of the marketplace and the event types it asked for.
type Webhook struct {
	ID        string `gorm:"primaryKey"`
	URL       string
	Events    string    // JSON array of event types
	Secret    string    // "whsec_…", kept readable because it signs (HMAC) every delivery
	CreatedAt time.Time `gorm:"serializer:unixms;autoCreateTime:false"`
}

// EventTypes is the list of types the endpoint asked for.
func (w Webhook) EventTypes() []string {
	var out []string
	_ = json.Unmarshal([]byte(w.Events), &out)
	return out
}

// WebhookEvent is one change the marketplace is told of, as it is sent.
type WebhookEvent struct {
	Seq      int64 `gorm:"primaryKey;autoIncrement"`
	ID       string
	Type     string
	SellerID string
	At       time.Time `gorm:"serializer:unixms"`
	Body     string    // the JSON sent: {"id","type","at","data"}, the same bytes on every attempt
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	WebhookID      string `gorm:"primaryKey"`
	EventSeq       int64  `gorm:"primaryKey"`
	EventID        string
	EventType      string
	SellerID       string
	Status         string
	Attempts       int
	LastStatusCode *int
	LastError      *string
	NextAttemptAt  time.Time  `gorm:"serializer:unixms"`
	FirstAttemptAt *time.Time `gorm:"serializer:unixms"`
	DeliveredAt    *time.Time `gorm:"serializer:unixms"`
	CreatedAt      time.Time  `gorm:"serializer:unixms;autoCreateTime:false"`
	Body           string     `gorm:"->;-:migration"` // the event's, read with the due deliveries
}

// Change is a change to tell the marketplace of, written by the transaction that
// makes it. Key names the change itself (a case's transition, a tier of a
// quarter), so a retried write finds its event and adds no second one.
type Change struct {
	Key      string
	Type     string
	SellerID string
	At       time.Time
	Data     any
}

// EventID is the stable id of the change of key.
func EventID(key string) string {
	h := sha256.Sum256([]byte(key))
	return "evt_" + hex.EncodeToString(h[:13])
}

// writeChanges adds the events of changes not written before, and a pending
// delivery of each to every endpoint that asked for its type, in tx.
func writeChanges(tx *gorm.DB, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = EventID(c.Key)
	}
	seen := map[string]bool{}
	for _, c := range chunks(len(ids), 5000) {
		got, err := queryStrings(tx, "SELECT id FROM webhook_events WHERE id IN ?", ids[c.from:c.from+c.n])
		if err != nil {
			return fmt.Errorf("events written before: %w", err)
		}
		for _, id := range got {
			seen[id] = true
		}
	}
	var rows []WebhookEvent
	var fresh []string
	for i, c := range changes {
		if seen[ids[i]] {
			continue
		}
		seen[ids[i]] = true
		at := c.At.UTC().Truncate(time.Millisecond)
		body, err := json.Marshal(struct {
			ID   string    `json:"id"`
			Type string    `json:"type"`
			At   time.Time `json:"at"`
			Data any       `json:"data"`
		}{ids[i], c.Type, at, c.Data})
		if err != nil {
			return fmt.Errorf("event %s: %w", c.Key, err)
		}
		rows = append(rows, WebhookEvent{ID: ids[i], Type: c.Type, SellerID: c.SellerID, At: at, Body: string(body)})
		fresh = append(fresh, ids[i])
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	now := ms(time.Now())
	for _, c := range chunks(len(fresh), 5000) {
		// An endpoint asked for a type when its JSON list holds it, quoted.
		err := tx.Exec(`INSERT INTO webhook_deliveries
  (webhook_id, event_seq, event_id, event_type, seller_id, status, attempts, next_attempt_at, created_at)
SELECT w.id, e.seq, e.id, e.type, e.seller_id, ?, 0, ?, ?
FROM webhook_events e JOIN webhooks w ON w.events LIKE '%"' || e.type || '"%'
WHERE e.id IN ?
ON CONFLICT DO NOTHING`, DeliveryPending, now, now, fresh[c.from:c.from+c.n]).Error
		if err != nil {
			return fmt.Errorf("queue deliveries: %w", err)
		}
	}
	return nil
}

// CaseDocument is a case as an event carries it: CASE of the contract without
// its timeline.
type CaseDocument struct {
	ID          string          `json:"id"`
	SellerID    string          `json:"seller_id"`
	Kind        string          `json:"kind"`
	Metric      *string         `json:"metric"`
	ListingID   *string         `json:"listing_id,omitempty"`
	Violation   *string         `json:"violation,omitempty"`
	State       string          `json:"state"`
	Enforcement string          `json:"enforcement"`
	OpenedAt    time.Time       `json:"opened_at"`
	Deadline    *time.Time      `json:"deadline"`
	ClosedAt    *time.Time      `json:"closed_at"`
	AppealsUsed int             `json:"appeals_used"`
	AppealsLeft int             `json:"appeals_left"`
	Escalated   bool            `json:"escalated"`
	Evidence    json.RawMessage `json:"evidence"`
	Appeals     []AppealRow     `json:"appeals"`
}

// caseChanges are the events of a case's transition r, given the seller's cases
// as they stood before it: the case entering its state, and the seller's status
// when the transition moves it.
func caseChanges(tx *gorm.DB, r CaseRecord, before []CaseRow) ([]Change, error) {
	var out []Change
	key := fmt.Sprintf("case/%s/%d", r.Case.ID, r.Event.Seq)
	var from health.CaseState
	if r.Event.FromState != nil {
		from = health.CaseState(*r.Event.FromState)
	}
	if typ, ok := health.CaseEventType(from, health.CaseState(r.Case.State)); ok {
		var appeals []AppealRow
		if err := tx.Where("case_id = ?", r.Case.ID).Order("submitted_at, id").Find(&appeals).Error; err != nil {
			return nil, fmt.Errorf("appeals of %s: %w", r.Case.ID, err)
		}
		c := r.Case
		doc := CaseDocument{ID: c.ID, SellerID: c.SellerID, Kind: c.Kind, Metric: c.Metric, ListingID: c.ListingID,
			Violation: c.Violation, State: c.State, Enforcement: c.Enforcement, OpenedAt: c.OpenedAt, Deadline: c.Deadline,
			ClosedAt: c.ClosedAt, AppealsUsed: c.AppealsUsed, AppealsLeft: max(0, c.MaxAppeals-c.AppealsUsed),
			Escalated: c.Escalated, Evidence: json.RawMessage(c.Evidence), Appeals: append([]AppealRow{}, appeals...)}
		out = append(out, Change{Key: key, Type: typ, SellerID: c.SellerID, At: r.Event.At, Data: map[string]any{"case": doc}})
	}
	standing := func(c CaseRow) health.CaseStanding {
		return health.CaseStanding{State: health.CaseState(c.State), Enforcement: health.Enforcement(c.Enforcement), OpenedAt: c.OpenedAt}
	}
	prev := make([]health.CaseStanding, 0, len(before)+1)
	next := make([]health.CaseStanding, 0, len(before)+1)
	for _, c := range before {
		prev = append(prev, standing(c))
		if c.ID != r.Case.ID {
			next = append(next, standing(c))
		}
	}
	next = append(next, standing(r.Case))
	if p, n := health.StatusOf(prev), health.StatusOf(next); p != n {
		out = append(out, Change{Key: key + "/status", Type: health.EventSellerStatusChanged, SellerID: r.Case.SellerID, At: r.Event.At,
			Data: map[string]any{"seller_id": r.Case.SellerID, "previous": p, "current": n, "case_id": r.Case.ID}})
	}
	return out, nil
}

// sellerCasesLocked reads a seller's cases in tx, first locking the seller's row
// on Postgres so that two cases of one seller change one after the other: each
// sees the other's state when it derives the seller's status, and the events of
// one seller are numbered in the order their transactions commit. SQLite has
// one writer: its transactions are in that order already.
func (s *Store) sellerCasesLocked(tx *gorm.DB, sellerID string) ([]CaseRow, error) {
	if s.dialect == Postgres {
		// NO KEY UPDATE: it excludes another case's transition of this seller, not
		// the foreign-key checks of orders being ingested for it.
		if err := tx.Exec("SELECT id FROM sellers WHERE id = ? FOR NO KEY UPDATE", sellerID).Error; err != nil {
			return nil, fmt.Errorf("lock seller %s: %w", sellerID, err)
		}
	}
	var rows []CaseRow
	err := tx.Select("id", "state", "enforcement", "opened_at").Where("seller_id = ?", sellerID).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("cases of %s: %w", sellerID, err)
	}
	return rows, nil
}

// tierChanges are the events of a shard's changes of tier.
func tierChanges(tiers []TierChange) []Change {
	var out []Change
	for _, t := range tiers {
		r := t.Tier
		if t.Unchanged || r.Tier == r.Previous {
			continue
		}
		out = append(out, Change{Key: "tier/" + r.SellerID + "/" + r.Quarter + "/" + r.Tier, Type: health.EventTierChanged,
			SellerID: r.SellerID, At: r.EvaluatedAt,
			Data: map[string]any{"seller_id": r.SellerID, "quarter": r.Quarter, "previous": r.Previous, "current": r.Tier}})
	}
	return out
}

// programChanges are the events of invitations and revocations.
func programChanges(changes []ProgramChange) []Change {
	var out []Change
	for _, c := range changes {
		p := c.Program
		typ := ""
		switch p.Status {
		case ProgramInvited:
			typ = health.EventProgramInvited
		case ProgramRevoked:
			typ = health.EventProgramRevoked
		default:
			continue
		}
		key := fmt.Sprintf("program/%s/%s/%s/%d", p.SellerID, p.Program, p.Status, ms(p.UpdatedAt))
		if c.Mail != nil { // the mail's key names the change already, the same on a retry
			key = c.Mail.Key
		}
		out = append(out, Change{Key: key, Type: typ, SellerID: p.SellerID, At: p.UpdatedAt,
			Data: map[string]any{"seller_id": p.SellerID, "program": p.Program}})
	}
	return out
}

// CreateWebhook registers an endpoint.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) error {
	if err := s.db.WithContext(ctx).Create(&w).Error; err != nil {
		return fmt.Errorf("register webhook: %w", err)
	}
	return nil
}

// Webhooks lists a page of the endpoints, oldest first.
func (s *Store) Webhooks(ctx context.Context, p Page) ([]Webhook, *Cursor, error) {
	var out []Webhook
	q := limitPlusOne(after(s.read.WithContext(ctx).Order("created_at, id"), "created_at", false, "id", p.After), p)
	if err := q.Find(&out).Error; err != nil {
		return nil, nil, fmt.Errorf("webhooks: %w", err)
	}
	rows, next := cut(out, p, func(w Webhook) Cursor { return Cursor{At: w.CreatedAt.UnixMilli(), ID: w.ID} })
	return rows, next, nil
}

// Webhook reads one endpoint.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&w).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return w, fmt.Errorf("webhook %s: %w", id, ErrNotFound)
	}
	return w, err
}

// DeleteWebhook removes an endpoint and its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		// SQLite cascades only with its foreign_keys pragma: delete explicitly on both.
		if err := tx.Where("webhook_id = ?", id).Delete(&WebhookDelivery{}).Error; err != nil {
			return fmt.Errorf("delete deliveries of webhook %s: %w", id, err)
		}
		res := tx.Where("id = ?", id).Delete(&Webhook{})
		if res.Error != nil {
			return fmt.Errorf("delete webhook %s: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("webhook %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Deliveries lists a page of an endpoint's deliveries with a status (all when
// empty), the newest first. The cursor's At is the event's number, not an instant.
func (s *Store) Deliveries(ctx context.Context, webhookID, status string, p Page) ([]WebhookDelivery, *Cursor, error) {
	q := s.read.WithContext(ctx).Where("webhook_id = ?", webhookID).Order("event_seq DESC, event_id")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	q = limitPlusOne(after(q, "event_seq", true, "event_id", p.After), p)
	var out []WebhookDelivery
	if err := q.Omit("body").Find(&out).Error; err != nil {
		return nil, nil, fmt.Errorf("deliveries of webhook %s: %w", webhookID, err)
	}
	rows, next := cut(out, p, func(d WebhookDelivery) Cursor { return Cursor{At: d.EventSeq, ID: d.EventID} })
	return rows, next, nil
}

// RetryDelivery puts a failed delivery back in line, due now, with a fresh
// period before it is given up. ErrNotFound when there is none, ErrConflict when
// it has not failed.
func (s *Store) RetryDelivery(ctx context.Context, webhookID, eventID string, now time.Time) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Omit("body").Where("webhook_id = ? AND event_id = ?", webhookID, eventID).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("delivery %s: %w", eventID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if d.Status != DeliveryFailed {
			return fmt.Errorf("delivery %s is %s, not failed: %w", eventID, d.Status, ErrConflict)
		}
		d.Status, d.NextAttemptAt, d.FirstAttemptAt = DeliveryPending, now, nil
		return tx.Model(&WebhookDelivery{}).Where("webhook_id = ? AND event_seq = ?", webhookID, d.EventSeq).
			Updates(map[string]any{"status": DeliveryPending, "next_attempt_at": ms(now), "first_attempt_at": nil}).Error
	})
	return d, err
}

// DueDeliveries answers, for up to limit sellers, the seller's oldest pending
// delivery to the endpoint when it is due at now: a seller's later deliveries
// wait behind it, so they arrive in order.
func (s *Store) DueDeliveries(ctx context.Context, webhookID string, now time.Time, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := s.read.WithContext(ctx).Raw(`SELECT d.*, e.body FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
WHERE d.webhook_id = ? AND d.status = ? AND d.next_attempt_at <= ?
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
    WHERE p.webhook_id = d.webhook_id AND p.status = ? AND p.seller_id = d.seller_id AND p.event_seq < d.event_seq)
ORDER BY d.event_seq LIMIT ?`, webhookID, DeliveryPending, ms(now), DeliveryPending, limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("due deliveries of webhook %s: %w", webhookID, err)
	}
	return out, nil
}

// Attempt is the outcome of one attempt at a delivery.
type Attempt struct {
	At         time.Time
	StatusCode int    // 0 when no answer came
	Error      string // "" when delivered
	Delivered  bool
	Next       time.Time // when to try again; zero: give up (failed)
}

// RecordAttempt writes an attempt's outcome on a pending delivery (one the
// endpoint's dispatcher still holds; a delivery deleted meanwhile is left so).
func (s *Store) RecordAttempt(ctx context.Context, d WebhookDelivery, a Attempt) error {
	set := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_status_code": nil, "last_error": nil}
	if a.StatusCode != 0 {
		set["last_status_code"] = a.StatusCode
	}
	if a.Error != "" {
		set["last_error"] = a.Error
	}
	if d.FirstAttemptAt == nil {
		set["first_attempt_at"] = ms(a.At)
	}
	switch {
	case a.Delivered:
		set["status"], set["delivered_at"] = DeliveryDelivered, ms(a.At)
	case a.Next.IsZero():
		set["status"] = DeliveryFailed
	default:
		set["next_attempt_at"] = ms(a.Next)
	}
	return s.db.WithContext(ctx).Model(&WebhookDelivery{}).
		Where("webhook_id = ? AND event_seq = ? AND status = ?", d.WebhookID, d.EventSeq, DeliveryPending).Updates(set).Error
}

// EventsAfter lists the events after seq, oldest first (tests and tools).
func (s *Store) EventsAfter(ctx context.Context, seq int64, limit int) ([]WebhookEvent, error) {
	var out []WebhookEvent
	return out, s.read.WithContext(ctx).Where("seq > ?", seq).Order("seq").Limit(limit).Find(&out).Error
}

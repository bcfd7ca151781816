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
	"gorm.io/gorm/clause"
)

// OutboxMail is a rendered message waiting to be sent, sent, or failed.
type OutboxMail struct {
	Key        string `gorm:"primaryKey"`
	ID         string // names the mail in the API; derived from Key when queued
	CaseID     *string
	Template   string
	Recipients string // JSON array
	Subject    string
	TextBody   string
	HTMLBody   string
	CreatedAt  time.Time  `gorm:"serializer:unixms;autoCreateTime:false"`
	SentAt     *time.Time `gorm:"serializer:unixms"`
	FailedAt   *time.Time `gorm:"serializer:unixms"` // given up on: see Status
	Attempts   int
	LastError  *string
	Batch      *string // the shard's batch that queued it, if one did (see BatchMail)
}

func (OutboxMail) TableName() string { return "outbox" }

// BeforeCreate names the mail by its key, so a mail queued again under one key
// (a retried write) keeps one id.
func (m *OutboxMail) BeforeCreate(*gorm.DB) error {
	if m.ID == "" {
		m.ID = MailID(m.Key)
	}
	return nil
}

// MailID is the API's name of the mail queued under key.
func MailID(key string) string {
	h := sha256.Sum256([]byte(key))
	return "mail_" + hex.EncodeToString(h[:12])
}

// To is the list of recipients.
func (m OutboxMail) To() []string {
	var to []string
	_ = json.Unmarshal([]byte(m.Recipients), &to)
	return to
}

// Statuses of a mail in the outbox.
const (
	MailPending = "pending" // queued, being tried
	MailSent    = "sent"    // the relay accepted it
	MailFailed  = "failed"  // refused for good, or not delivered in time: waits for a reviewer
)

// MailStatuses lists the statuses, for validation.
var MailStatuses = []string{MailPending, MailSent, MailFailed}

// Status is where the mail stands.
func (m OutboxMail) Status() string {
	switch {
	case m.SentAt != nil:
		return MailSent
	case m.FailedAt != nil:
		return MailFailed
	}
	return MailPending
}

// QueueMail records a mail to send unless one of its key exists.
func (s *Store) QueueMail(ctx context.Context, m OutboxMail) error {
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
		return fmt.Errorf("queue mail %s: %w", m.Key, err)
	}
	return nil
}

// queueIn queues mail within a transaction that writes what the mail tells of,
// so both are stored or neither; a key queued before is left as it is.
func queueIn(tx *gorm.DB, mail []OutboxMail) error {
	for _, m := range mail {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
			return fmt.Errorf("queue mail %s: %w", m.Key, err)
		}
	}
	return nil
}

// BatchMail answers the keys of a batch's mail still to send (neither sent nor
// given up on), in key order.
func (s *Store) BatchMail(ctx context.Context, batch string) ([]string, error) {
	keys, err := queryStrings(s.db.WithContext(ctx),
		"SELECT key FROM outbox WHERE batch = ? AND sent_at IS NULL AND failed_at IS NULL ORDER BY key", batch)
	if err != nil {
		return nil, fmt.Errorf("mail of batch %s: %w", batch, err)
	}
	return keys, nil
}

// Mail reads one outbox message.
func (s *Store) Mail(ctx context.Context, key string) (OutboxMail, error) {
	var m OutboxMail
	err := s.read.WithContext(ctx).Where("key = ?", key).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, fmt.Errorf("mail %s: %w", key, ErrNotFound)
	}
	return m, err
}

// MailByID reads one outbox message by its id.
func (s *Store) MailByID(ctx context.Context, id string) (OutboxMail, error) {
	var m OutboxMail
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, fmt.Errorf("mail %s: %w", id, ErrNotFound)
	}
	return m, err
}

// MarkMailSent records that the SMTP server accepted a message.
func (s *Store) MarkMailSent(ctx context.Context, key string) error {
	return s.db.WithContext(ctx).Model(&OutboxMail{}).Where("key = ?", key).
		Updates(map[string]any{"sent_at": ms(time.Now()), "attempts": gorm.Expr("attempts + 1"), "last_error": nil, "failed_at": nil}).Error
}

// MarkMailFailed records a failed attempt; the mail will be tried again.
func (s *Store) MarkMailFailed(ctx context.Context, key string, cause error) error {
	return s.db.WithContext(ctx).Model(&OutboxMail{}).Where("key = ?", key).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": cause.Error()}).Error
}

// MarkMailUndeliverable records the last failed attempt of a mail given up on:
// it is failed, with its error, until someone sends it again. A mail the relay
// has accepted meanwhile stays sent. It reports whether the mail became failed.
func (s *Store) MarkMailUndeliverable(ctx context.Context, key string, cause error) (bool, error) {
	res := s.db.WithContext(ctx).Model(&OutboxMail{}).Where("key = ? AND sent_at IS NULL", key).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": cause.Error(), "failed_at": ms(time.Now())})
	return res.RowsAffected == 1, res.Error
}

// RetryMail makes a failed mail pending again, for a reviewer's resend. Only a
// failed mail is taken: of two resends at once one wins, and a sent mail is never
// sent again (ErrConflict), nor one still being tried.
func (s *Store) RetryMail(ctx context.Context, id string) (OutboxMail, error) {
	res := s.db.WithContext(ctx).Model(&OutboxMail{}).Where("id = ? AND failed_at IS NOT NULL AND sent_at IS NULL", id).
		Update("failed_at", nil)
	if res.Error != nil {
		return OutboxMail{}, res.Error
	}
	m, err := s.MailByID(ctx, id)
	if err != nil {
		return m, err
	}
	if res.RowsAffected == 0 {
		return m, fmt.Errorf("mail %s is %s, not failed: %w", id, m.Status(), ErrConflict)
	}
	return m, nil
}

// ListMail lists a page of outbox messages of a status (all when empty), by
// id, and the cursor of the next page.
func (s *Store) ListMail(ctx context.Context, status string, p Page) ([]OutboxMail, *Cursor, error) {
	q := s.read.WithContext(ctx).Model(&OutboxMail{}).Order("id")
	switch status {
	case MailSent:
		q = q.Where("sent_at IS NOT NULL")
	case MailFailed:
		q = q.Where("failed_at IS NOT NULL AND sent_at IS NULL")
	case MailPending:
		q = q.Where("failed_at IS NULL AND sent_at IS NULL")
	}
	var out []OutboxMail
	if err := limitPlusOne(after(q, "", false, "id", p.After), p).Find(&out).Error; err != nil {
		return nil, nil, fmt.Errorf("list mail: %w", err)
	}
	rows, next := cut(out, p, func(m OutboxMail) Cursor { return Cursor{ID: m.ID} })
	return rows, next, nil
}

// OutboxCounts counts the outbox by status, and names the creation of the
// oldest mail still being tried (nil when none is), for the metrics.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int64, *time.Time, error) {
	var row struct {
		Sent, Failed, Pending int64
		Oldest                *int64
	}
	err := s.read.WithContext(ctx).Raw(`SELECT
		COUNT(sent_at) AS sent,
		COUNT(CASE WHEN sent_at IS NULL AND failed_at IS NOT NULL THEN 1 END) AS failed,
		COUNT(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 END) AS pending,
		MIN(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN created_at END) AS oldest
		FROM outbox`).Scan(&row).Error
	if err != nil {
		return nil, nil, err
	}
	var oldest *time.Time
	if row.Oldest != nil {
		t := fromMS(*row.Oldest)
		oldest = &t
	}
	return map[string]int64{MailSent: row.Sent, MailFailed: row.Failed, MailPending: row.Pending}, oldest, nil
}

// CaseCounts counts the cases by state, for the metrics.
func (s *Store) CaseCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := s.read.WithContext(ctx).Raw("SELECT state, COUNT(*) AS n FROM cases GROUP BY state").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

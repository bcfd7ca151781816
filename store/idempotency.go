package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// IdempotencyKey is a client's key for one request: claimed before the work, with
// the request's digest and scope, and completed with the first answer.
type IdempotencyKey struct {
	Principal   string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	Scope       string // what the request acted on (e.g. the case), to name a misuse
	RequestHash string
	State       string    // KeyPending or KeyDone
	Body        string    // the first answer, once done
	CreatedAt   time.Time `gorm:"serializer:unixms;autoCreateTime:false"`
}

func (IdempotencyKey) TableName() string { return "idempotency_keys" }

// States of an idempotency key.
const (
	KeyPending = "pending"
	KeyDone    = "done"
)

// ClaimIdempotencyKey claims (principal, key) for a request, atomically: of
// concurrent requests with one key, exactly one inserts the row and is told
// claimed; the others get the row as it stands (another request's, or a finished
// one's) and must compare its scope and digest with their own.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey) (existing IdempotencyKey, claimed bool, err error) {
	k.State, k.Body, k.CreatedAt = KeyPending, "", time.Now().UTC()
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&k)
	if res.Error != nil {
		return k, false, fmt.Errorf("claim idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return k, true, nil
	}
	err = s.db.WithContext(ctx).Where("principal = ? AND key = ?", k.Principal, k.Key).Take(&existing).Error // the writer: it must see the row the insert met
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Released between the insert and the read: the caller may simply try again.
		return existing, false, fmt.Errorf("idempotency key %s: released while claimed: %w", k.Key, ErrConflict)
	}
	return existing, false, err
}

// CompleteIdempotencyKey keeps the first answer of a claimed key.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, principal, key, body string) error {
	return s.db.WithContext(ctx).Model(&IdempotencyKey{}).Where("principal = ? AND key = ?", principal, key).
		Updates(map[string]any{"state": KeyDone, "body": body}).Error
}

// ReleaseIdempotencyKey gives up a claim whose request failed, so the client may
// use the key again (with a corrected request).
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	return s.db.WithContext(ctx).Where("principal = ? AND key = ? AND state = ?", principal, key, KeyPending).
		Delete(&IdempotencyKey{}).Error
}

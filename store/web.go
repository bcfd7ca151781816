package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// Person is an account a sign-in email can open.
type Person struct {
	Role       Role
	SellerID   string
	ReviewerID string
	Name       string
	Email      string
}

// PeopleByEmail finds every seller and reviewer with this address.
func (s *Store) PeopleByEmail(ctx context.Context, email string) ([]Person, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var sellers []Seller
	if err := s.read.WithContext(ctx).Where("LOWER(email) = ?", email).Order("id").Find(&sellers).Error; err != nil {
		return nil, err
	}
	var reviewers []Reviewer
	if err := s.read.WithContext(ctx).Where("LOWER(email) = ?", email).Order("id").Find(&reviewers).Error; err != nil {
		return nil, err
	}
	var out []Person
	for _, r := range reviewers {
		out = append(out, Person{Role: RoleReviewer, ReviewerID: r.ID, Name: r.Name, Email: r.Email})
	}
	for _, sel := range sellers {
		out = append(out, Person{Role: RoleSeller, SellerID: sel.ID, Name: sel.Name, Email: sel.Email})
	}
	return out, nil
}

// LoginToken is a one-time sign-in link, by the hash of its token.
type LoginToken struct {
	TokenHash  string `gorm:"primaryKey"`
	Email      string
	Role       Role
	SellerID   *string
	ReviewerID *string
	CreatedAt  time.Time  `gorm:"serializer:unixms;autoCreateTime:false"`
	ExpiresAt  time.Time  `gorm:"serializer:unixms"`
	UsedAt     *time.Time `gorm:"serializer:unixms"`
}

// CreateLoginToken stores a new sign-in token.
func (s *Store) CreateLoginToken(ctx context.Context, t LoginToken) error {
	return s.db.WithContext(ctx).Create(&t).Error
}

// SigninLimits bounds the requests for sign-in links to one address in a window.
type SigninLimits struct {
	Window     time.Duration
	PerClient  int // from one client
	PerAddress int // from all clients together
}

// SigninVerdict answers a request for sign-in links.
type SigninVerdict int

const (
	SigninGranted        SigninVerdict = iota + 1
	SigninClientLimited                // this client asked for this address too often
	SigninAddressLimited               // everyone together asked for this address too often
)

// RequestSignin counts a request for sign-in links to email from client and
// grants it unless lim is reached; only granted requests count, so refused
// ones do not prolong a wait. Accounts play no part: the verdict must not tell
// whether the address has one. The address's row is locked (the upsert) while
// counting, so concurrent requests, from any number of processes, never pass
// a limit together; on SQLite the write transaction does the same.
func (s *Store) RequestSignin(ctx context.Context, email, client string, now time.Time, lim SigninLimits) (SigninVerdict, error) {
	email, now = strings.ToLower(email), now.UTC()
	since := now.Add(-lim.Window)
	verdict := SigninGranted
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO signin_addresses (email, last_at) VALUES (?, ?)
			ON CONFLICT (email) DO UPDATE SET last_at = excluded.last_at`, email, ms(now)).Error
		if err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM signin_requests WHERE email = ? AND at < ?`, email, ms(since)).Error; err != nil {
			return err
		}
		var n struct{ Total, Mine int }
		err = tx.Raw(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN client = ? THEN 1 ELSE 0 END), 0) AS mine
			FROM signin_requests WHERE email = ?`, client, email).Scan(&n).Error
		if err != nil {
			return err
		}
		switch {
		case n.Mine >= lim.PerClient:
			verdict = SigninClientLimited
			return nil
		case n.Total >= lim.PerAddress:
			verdict = SigninAddressLimited
			return nil
		}
		return tx.Exec(`INSERT INTO signin_requests (email, client, at) VALUES (?, ?, ?)`, email, client, ms(now)).Error
	})
	if err != nil {
		return 0, fmt.Errorf("sign-in request for %s: %w", email, err)
	}
	return verdict, nil
}

// ErrTokenInvalid is a sign-in token that is unknown, used or expired.
var ErrTokenInvalid = errors.New("this sign-in link is unknown, already used or expired")

// UseLoginToken spends a token: it works once, before it expires.
func (s *Store) UseLoginToken(ctx context.Context, hash string, now time.Time) (LoginToken, error) {
	var t LoginToken
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&LoginToken{}).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hash, ms(now)).Update("used_at", ms(now))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrTokenInvalid
		}
		return tx.Where("token_hash = ?", hash).Take(&t).Error
	})
	return t, err
}

// Session is a signed-in browser, by the hash of its cookie.
type Session struct {
	IDHash     string `gorm:"primaryKey"`
	Role       Role
	SellerID   *string
	ReviewerID *string
	CSRF       string    `gorm:"column:csrf"`
	CreatedAt  time.Time `gorm:"serializer:unixms;autoCreateTime:false"`
	ExpiresAt  time.Time `gorm:"serializer:unixms"`
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	return s.db.WithContext(ctx).Create(&sess).Error
}

// SessionByHash finds a live session.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error) {
	var sess Session
	err := s.read.WithContext(ctx).Where("id_hash = ? AND expires_at > ?", hash, ms(now)).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return sess, ErrNotFound
	}
	return sess, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.db.WithContext(ctx).Where("id_hash = ?", hash).Delete(&Session{}).Error
}

// ClaimAppeal gives an undecided appeal to a reviewer: unclaimed, already theirs,
// or claimed before expiredBefore (a claim lapses). ErrConflict when another
// reviewer's claim holds.
func (s *Store) ClaimAppeal(ctx context.Context, appealID, reviewerID string, expiredBefore time.Time) error {
	return s.claim(ctx, "appeals", appealID, reviewerID, expiredBefore, false)
}

// ClaimCase gives a case's confirmation to a reviewer, as ClaimAppeal.
func (s *Store) ClaimCase(ctx context.Context, caseID, reviewerID string, expiredBefore time.Time) error {
	return s.claim(ctx, "cases", caseID, reviewerID, expiredBefore, false)
}

// AssignAppeal and AssignCase give the claim to a reviewer whoever held it (an
// admin's reassignment).
func (s *Store) AssignAppeal(ctx context.Context, appealID, reviewerID string) error {
	return s.claim(ctx, "appeals", appealID, reviewerID, time.Time{}, true)
}

func (s *Store) AssignCase(ctx context.Context, caseID, reviewerID string) error {
	return s.claim(ctx, "cases", caseID, reviewerID, time.Time{}, true)
}

func (s *Store) claim(ctx context.Context, table, id, reviewerID string, expiredBefore time.Time, force bool) error {
	// Raw SQL: the models mark the claim columns read-only so the workflow's
	// records never overwrite a claim.
	q := `UPDATE ` + table + ` SET claimed_by = ?, claimed_at = ? WHERE id = ?`
	args := []any{reviewerID, ms(time.Now()), id}
	if !force {
		q += ` AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)`
		args = append(args, reviewerID, ms(expiredBefore))
	}
	res := s.db.WithContext(ctx).Exec(q, args...)
	if res.Error != nil {
		return fmt.Errorf("claim %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.read.WithContext(ctx).Table(table).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s %s: %w", table, id, ErrNotFound)
		}
		return fmt.Errorf("%s is claimed by another reviewer: %w", id, ErrConflict)
	}
	return nil
}

// QueueItem is an appeal in the reviewers' queue.
type QueueItem struct {
	AppealRow
	Metric       *string
	CaseState    string
	Enforcement  string
	ClaimantName *string
}

// QueueFilter selects the queue.
type QueueFilter struct {
	Metric string // "" for all
	Status string // appeal status; "" for all
	Limit  int    // the most items wanted; 0 for all
}

// ReviewQueue lists appeals, the oldest review deadline first.
func (s *Store) ReviewQueue(ctx context.Context, f QueueFilter) ([]QueueItem, error) {
	q := s.read.WithContext(ctx).Table("appeals a").
		Select("a.*, c.metric AS metric, c.state AS case_state, c.enforcement AS enforcement, r.name AS claimant_name").
		Joins("JOIN cases c ON c.id = a.case_id").
		Joins("LEFT JOIN reviewers r ON r.id = a.claimed_by").
		Order("a.review_due, a.submitted_at, a.id")
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if f.Metric != "" {
		q = q.Where("c.metric = ?", f.Metric)
	}
	if f.Status != "" {
		q = q.Where("a.status = ?", f.Status)
	}
	var out []QueueItem
	if err := q.Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return out, nil
}

// TrendPoint is one evaluation's value of a metric.
type TrendPoint struct {
	At     time.Time
	Value  *float64
	Status health.Status
}

// MetricTrend reads a seller's last n values of each metric, oldest first.
func (s *Store) MetricTrend(ctx context.Context, sellerID string, n int) (map[health.MetricID][]TrendPoint, error) {
	var rows []sellerSnapshot
	err := s.read.WithContext(ctx).Table("seller_snapshots").Select("evaluated_at", "metrics").
		Where("seller_id = ?", sellerID).Order("evaluated_at DESC").Limit(n).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("trend of %s: %w", sellerID, err)
	}
	out := map[health.MetricID][]TrendPoint{}
	for i := len(rows) - 1; i >= 0; i-- {
		var docs []MetricDoc
		if err := json.Unmarshal([]byte(rows[i].Metrics), &docs); err != nil {
			return nil, fmt.Errorf("trend of %s: %w", sellerID, err)
		}
		for _, d := range docs {
			out[d.Metric] = append(out[d.Metric], TrendPoint{At: d.WindowEnd, Value: d.Value, Status: d.Status})
		}
	}
	return out, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Seller is a provisioned seller.
type Seller struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `gorm:"serializer:unixms;autoCreateTime:false" json:"created_at"`
}

// Reviewer is a performance reviewer.
type Reviewer struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `gorm:"serializer:unixms;autoCreateTime:false" json:"created_at"`
}

// Role is what a key may do.
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleReviewer Role = "reviewer"
	RoleSeller   Role = "seller"
)

// APIKey is a stored key: only its hash.
type APIKey struct {
	ID         string `gorm:"primaryKey"`
	KeyHash    string
	Role       Role
	SellerID   *string
	ReviewerID *string
	CreatedAt  time.Time  `gorm:"serializer:unixms;autoCreateTime:false"`
	RevokedAt  *time.Time `gorm:"serializer:unixms"`
}

// CreateSeller stores a seller with the hash of their first key. ErrConflict when
// the id is taken.
func (s *Store) CreateSeller(ctx context.Context, sel Seller, keyHash string) (Seller, error) {
	sel.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&sel).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("seller %s: %w", sel.ID, ErrConflict)
			}
			return fmt.Errorf("create seller %s: %w", sel.ID, err)
		}
		return createKey(tx, APIKey{KeyHash: keyHash, Role: RoleSeller, SellerID: &sel.ID})
	})
	return sel, err
}

// CreateReviewer stores a reviewer (with a new id) and the hash of their key.
// ErrConflict when another reviewer has the address, in any letter case.
func (s *Store) CreateReviewer(ctx context.Context, r Reviewer, keyHash string) (Reviewer, error) {
	r.ID = uuid.NewString()
	r.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("reviewer %s: %w", r.Email, ErrConflict)
			}
			return fmt.Errorf("create reviewer: %w", err)
		}
		return createKey(tx, APIKey{KeyHash: keyHash, Role: RoleReviewer, ReviewerID: &r.ID})
	})
	return r, err
}

func createKey(tx *gorm.DB, k APIKey) error {
	k.ID = uuid.NewString()
	k.CreatedAt = time.Now().UTC()
	if err := tx.Create(&k).Error; err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// KeyByHash finds a live key by its hash.
func (s *Store) KeyByHash(ctx context.Context, hash string) (APIKey, error) {
	var k APIKey
	err := s.read.WithContext(ctx).Where("key_hash = ? AND revoked_at IS NULL", hash).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return k, ErrNotFound
	}
	return k, err
}

// Seller finds a seller by id.
func (s *Store) Seller(ctx context.Context, id string) (Seller, error) {
	var sel Seller
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&sel).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return sel, fmt.Errorf("seller %s: %w", id, ErrNotFound)
	}
	return sel, err
}

// Reviewer finds a reviewer by id.
func (s *Store) Reviewer(ctx context.Context, id string) (Reviewer, error) {
	var r Reviewer
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, fmt.Errorf("reviewer %s: %w", id, ErrNotFound)
	}
	return r, err
}

// SellersByID reads the given sellers, by id.
func (s *Store) SellersByID(ctx context.Context, ids []string) (map[string]Seller, error) {
	out := make(map[string]Seller, len(ids))
	for _, c := range chunks(len(ids), maxParams(s.dialect)-10) {
		var rows []Seller
		if err := s.read.WithContext(ctx).Where("id IN ?", ids[c.from:c.from+c.n]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("sellers: %w", err)
		}
		for _, r := range rows {
			out[r.ID] = r
		}
	}
	return out, nil
}

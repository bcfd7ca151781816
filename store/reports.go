package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Report statuses.
const (
	ReportOpen       = "open"
	ReportDismissed  = "dismissed"
	ReportCaseOpened = "case_opened"
)

// Report is a buyer's report of a violation and its decision.
type Report struct {
	ID          string     `gorm:"primaryKey" json:"id"`
	SellerID    string     `json:"seller_id"`
	ListingID   *string    `json:"listing_id"`
	Category    string     `json:"category"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `gorm:"serializer:unixms;autoCreateTime:false" json:"created_at"`
	DecidedAt   *time.Time `gorm:"serializer:unixms" json:"decided_at"`
	DecidedBy   *string    `json:"decided_by"`
	Message     *string    `json:"message"`
	CaseID      *string    `json:"case_id"`
}

// CreateReport stores a report.
func (s *Store) CreateReport(ctx context.Context, r Report) error {
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store report: %w", err)
	}
	return nil
}

// Report reads one report.
func (s *Store) Report(ctx context.Context, id string) (Report, error) {
	var r Report
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, fmt.Errorf("report %s: %w", id, ErrNotFound)
	}
	return r, err
}

// Reports lists a page of reports with a status (all when empty), oldest first.
func (s *Store) Reports(ctx context.Context, status string, p Page) ([]Report, *Cursor, error) {
	q := s.read.WithContext(ctx).Order("created_at, id")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	q = limitPlusOne(after(q, "created_at", false, "id", p.After), p)
	var out []Report
	if err := q.Find(&out).Error; err != nil {
		return nil, nil, fmt.Errorf("reports: %w", err)
	}
	rows, next := cut(out, p, func(r Report) Cursor { return Cursor{At: r.CreatedAt.UnixMilli(), ID: r.ID} })
	return rows, next, nil
}

// DecideReport records an open report's decision. ErrConflict when it was
// decided already (by another reviewer first), ErrNotFound when there is none.
func (s *Store) DecideReport(ctx context.Context, id, status, reviewerID, message string, caseID *string, at time.Time) (Report, error) {
	var r Report
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Report{}).Where("id = ? AND status = ?", id, ReportOpen).
			Updates(map[string]any{"status": status, "decided_at": ms(at), "decided_by": reviewerID, "message": message, "case_id": caseID})
		if res.Error != nil {
			return fmt.Errorf("decide report %s: %w", id, res.Error)
		}
		err := tx.Where("id = ?", id).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("report %s: %w", id, ErrNotFound)
		}
		if err == nil && res.RowsAffected == 0 {
			return fmt.Errorf("report %s is %s already: %w", id, r.Status, ErrConflict)
		}
		return err
	})
	return r, err
}

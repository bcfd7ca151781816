package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// DisputeRow is a seller's dispute of one order's defect (or of all of them).
type DisputeRow struct {
	ID              string `gorm:"primaryKey"`
	OrderID         string
	SellerID        string
	Defect          *string // nil: every defect the order had
	Defects         int     // the bits of the defects it covers
	Status          string
	Reason          string
	Message         string
	CaseID          *string
	CreatedAt       time.Time  `gorm:"serializer:unixms;autoCreateTime:false"`
	DecidedAt       *time.Time `gorm:"serializer:unixms"`
	DecidedBy       *string
	DecisionMessage *string
}

func (DisputeRow) TableName() string { return "disputes" }

// Covers lists the defects the dispute covers.
func (d DisputeRow) Covers() []health.Defect {
	var out []health.Defect
	for _, x := range health.Defects {
		if d.Defects&x.Bit() != 0 {
			out = append(out, x)
		}
	}
	return out
}

// Dispute statuses.
const (
	DisputeOpen   = "open"
	DisputeUpheld = "upheld"
	DisputeDenied = "denied"
)

type disputeDefect struct {
	OrderID   string `gorm:"primaryKey"`
	Defect    string `gorm:"primaryKey"`
	DisputeID string
}

func (disputeDefect) TableName() string { return "dispute_defects" }

// Order reads an order with its facts.
func (s *Store) Order(ctx context.Context, id string) (health.Order, error) {
	var r struct {
		OrderID, SellerID                                  string
		PlacedAt, ShipBy, DeliverBy                        int64
		ShippedAt, FirstScanAt, DeliveredAt, CancelledAt   *int64
		ClaimAt, ChargebackAt, FeedbackAt, ReturnedAt      *int64
		SellerRefundAt, MarketplaceRefundAt                *int64
		TrackingNumber, Carrier, CancelledBy, ClaimOutcome sql.NullString
		FeedbackRating                                     sql.NullInt64
		ExcusedDefects                                     int
	}
	err := s.read.WithContext(ctx).Table("orders").Where("order_id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return health.Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return health.Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	at := timePtr
	return health.Order{ID: r.OrderID, SellerID: r.SellerID, PlacedAt: fromMS(r.PlacedAt), ShipBy: fromMS(r.ShipBy),
		DeliverBy: fromMS(r.DeliverBy), Excused: r.ExcusedDefects,
		OrderFacts: health.OrderFacts{ShippedAt: at(r.ShippedAt), TrackingNumber: r.TrackingNumber.String, Carrier: r.Carrier.String,
			FirstScanAt: at(r.FirstScanAt), DeliveredAt: at(r.DeliveredAt), CancelledAt: at(r.CancelledAt), CancelledBy: r.CancelledBy.String,
			ClaimAt: at(r.ClaimAt), ClaimOutcome: r.ClaimOutcome.String, ChargebackAt: at(r.ChargebackAt), FeedbackAt: at(r.FeedbackAt),
			FeedbackRating: int(r.FeedbackRating.Int64), ReturnedAt: at(r.ReturnedAt), SellerRefundAt: at(r.SellerRefundAt),
			MarketplaceRefundAt: at(r.MarketplaceRefundAt)}}, nil
}

// CreateDispute stores a dispute, claims each defect it covers for it, and
// queues the mail telling of it, in one transaction: ErrConflict (and nothing
// stored) when another dispute (open or decided) already covers a defect.
func (s *Store) CreateDispute(ctx context.Context, d DisputeRow, mail []OutboxMail) error {
	covers := d.Covers()
	names := make([]string, len(covers))
	for i, x := range covers {
		names[i] = string(x)
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		var held []disputeDefect
		if err := tx.Where("order_id = ? AND defect IN ?", d.OrderID, names).Find(&held).Error; err != nil {
			return fmt.Errorf("disputes of order %s: %w", d.OrderID, err)
		}
		if len(held) > 0 {
			return fmt.Errorf("the %s of order %s is already disputed (dispute %s): %w", held[0].Defect, d.OrderID, held[0].DisputeID, ErrConflict)
		}
		if err := tx.Create(&d).Error; err != nil {
			return fmt.Errorf("write dispute %s: %w", d.ID, err)
		}
		for _, n := range names {
			if err := tx.Create(&disputeDefect{OrderID: d.OrderID, Defect: n, DisputeID: d.ID}).Error; err != nil {
				return fmt.Errorf("the %s of order %s is already disputed: %w", n, d.OrderID, ErrConflict)
			}
		}
		return queueIn(tx, mail)
	})
}

// Dispute reads one dispute.
func (s *Store) Dispute(ctx context.Context, id string) (DisputeRow, error) {
	var d DisputeRow
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return d, fmt.Errorf("dispute %s: %w", id, ErrNotFound)
	}
	return d, err
}

// DisputeFilter selects disputes; empty fields select all.
type DisputeFilter struct {
	Status   string
	SellerID string
	CaseID   string
	Page     Page
}

// Disputes lists a page of disputes, oldest first, and the cursor of the next page.
func (s *Store) Disputes(ctx context.Context, f DisputeFilter) ([]DisputeRow, *Cursor, error) {
	q := after(s.read.WithContext(ctx).Order("created_at, id"), "created_at", false, "id", f.Page.After)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.SellerID != "" {
		q = q.Where("seller_id = ?", f.SellerID)
	}
	if f.CaseID != "" {
		q = q.Where("case_id = ?", f.CaseID)
	}
	var out []DisputeRow
	if err := limitPlusOne(q, f.Page).Find(&out).Error; err != nil {
		return nil, nil, err
	}
	out, next := cut(out, f.Page, func(d DisputeRow) Cursor { return Cursor{At: ms(d.CreatedAt), ID: d.ID} })
	return out, next, nil
}

// DecideDispute records a reviewer's decision on an open dispute and queues the
// mail telling of it; an upheld one removes its defects from the order's counts
// in the same transaction. ErrConflict (and no mail) when it was already decided.
func (s *Store) DecideDispute(ctx context.Context, id, status, reviewerID, message string, at time.Time, mail []OutboxMail) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var d DisputeRow
		if err := tx.Where("id = ?", id).Take(&d).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("dispute %s: %w", id, ErrNotFound)
		} else if err != nil {
			return err
		}
		res := tx.Model(&DisputeRow{}).Where("id = ? AND status = ?", id, DisputeOpen).
			Updates(map[string]any{"status": status, "decided_at": ms(at), "decided_by": reviewerID, "decision_message": message})
		if res.Error != nil {
			return fmt.Errorf("decide dispute %s: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("dispute %s was already decided: %w", id, ErrConflict)
		}
		if status == DisputeUpheld {
			// Bitwise or: the same operator on both dialects.
			err := tx.Exec("UPDATE orders SET excused_defects = excused_defects | ? WHERE order_id = ?", d.Defects, d.OrderID).Error
			if err != nil {
				return fmt.Errorf("excuse the defects of order %s: %w", d.OrderID, err)
			}
		}
		return queueIn(tx, mail)
	})
}

package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/accounthealth/accounthealth/health"
)

// Told is what the sweep last told the case of a seller's metric: its status and
// figures, by which evaluation. A breach found again with the same figures while
// its case is open needs no round trip to Temporal and makes no timeline entry.
type Told struct {
	SellerID     string          `gorm:"primaryKey"`
	Metric       health.MetricID `gorm:"primaryKey"`
	EvaluationID string
	Status       health.Status
	Numerator    int64
	Denominator  int64
	ToldAt       time.Time `gorm:"serializer:unixms"` // when Temporal took it
}

func (Told) TableName() string { return "case_told" }

// Same says whether an observation has the status and figures already told.
func (t Told) Same(status health.Status, numerator, denominator int64) bool {
	return t.Status == status && t.Numerator == numerator && t.Denominator == denominator
}

// ToldCases reads what the given sellers' cases were last told, by seller and metric.
func (s *Store) ToldCases(ctx context.Context, sellerIDs []string) (map[string]map[health.MetricID]Told, error) {
	out := map[string]map[health.MetricID]Told{}
	for _, c := range chunks(len(sellerIDs), maxParams(s.dialect)-10) {
		var rows []Told
		if err := s.read.WithContext(ctx).Where("seller_id IN ?", sellerIDs[c.from:c.from+c.n]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("told cases: %w", err)
		}
		for _, r := range rows {
			if out[r.SellerID] == nil {
				out[r.SellerID] = map[health.MetricID]Told{}
			}
			out[r.SellerID][r.Metric] = r
		}
	}
	return out, nil
}

// SaveTold records what the cases were told, once Temporal has taken it.
func (s *Store) SaveTold(ctx context.Context, told []Told) error {
	if len(told) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(told, 1000).Error
	if err != nil {
		return fmt.Errorf("save told cases: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// Health is what is known of a seller's health: their latest evaluated metrics,
// or, before their first evaluation, the metrics computed now.
type Health struct {
	Metrics     SellerMetrics
	EvaluatedAt *time.Time // nil when computed on the spot
	Cases       []health.CaseStanding
}

// LatestHealth reads a seller's latest evaluation. A seller never evaluated is
// computed on the spot with the policy p, so a new seller sees real numbers.
func (s *Store) LatestHealth(ctx context.Context, sellerID string, p health.Policy) (Health, error) {
	db := s.db.WithContext(ctx)
	var row SellerHealthRow
	err := db.Where("seller_id = ?", sellerID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if _, err := s.Seller(ctx, sellerID); err != nil { // a seller_health row implies the seller
			return Health{}, err
		}
		now := time.Now().UTC()
		ms, err := s.ComputeMetrics(ctx, Shard{IDs: []string{sellerID}}, now, p)
		if err != nil {
			return Health{}, err
		}
		if len(ms) != 1 {
			return Health{}, fmt.Errorf("health of %s: %w", sellerID, ErrNotFound)
		}
		return Health{Metrics: ms[0]}, nil
	}
	if err != nil {
		return Health{}, fmt.Errorf("health of %s: %w", sellerID, err)
	}
	var snaps []MetricSnapshot
	if err := db.Where("evaluation_id = ? AND seller_id = ?", row.EvaluationID, sellerID).Find(&snaps).Error; err != nil {
		return Health{}, fmt.Errorf("health of %s: %w", sellerID, err)
	}
	byMetric := map[string]MetricSnapshot{}
	for _, sn := range snaps {
		byMetric[sn.Metric] = sn
	}
	sm := SellerMetrics{SellerID: sellerID, DefectFreeShipped: row.DefectFreeShipped}
	for _, m := range health.Metrics {
		sn, ok := byMetric[string(m)]
		if !ok {
			continue
		}
		sm.Metrics = append(sm.Metrics, MetricResult{
			Metric: m, Numerator: sn.Numerator, Denominator: sn.Denominator, Value: sn.Value,
			Status:      health.Status(sn.Status),
			Policy:      health.MetricPolicy{Target: health.Target{Op: health.Op(sn.TargetOp), Value: sn.TargetValue}, WindowDays: sn.WindowDays},
			WindowStart: fromMS(sn.WindowStart), WindowEnd: fromMS(sn.WindowEnd),
		})
	}
	at := fromMS(row.EvaluatedAt)
	return Health{Metrics: sm, EvaluatedAt: &at}, nil
}

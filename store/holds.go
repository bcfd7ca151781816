package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/accounthealth/accounthealth/health"
)

// holdRow is a health.Hold as stored: what a reviewer's withdrawal of a metric
// case leaves behind until the metric is seen within target or worse.
type holdRow struct {
	SellerID    string          `gorm:"primaryKey"`
	Metric      health.MetricID `gorm:"primaryKey"`
	CaseID      string
	WithdrawnAt time.Time `gorm:"serializer:unixms"`
	Numerator   int64
	Denominator int64
	Value       *float64
}

func (holdRow) TableName() string { return "metric_holds" }

// Holds reads the holds of the given sellers, by seller and metric.
func (s *Store) Holds(ctx context.Context, sellerIDs []string) (map[string]map[health.MetricID]health.Hold, error) {
	out := map[string]map[health.MetricID]health.Hold{}
	for _, c := range chunks(len(sellerIDs), maxParams(s.dialect)-10) {
		var rows []holdRow
		if err := s.read.WithContext(ctx).Where("seller_id IN ?", sellerIDs[c.from:c.from+c.n]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("metric holds: %w", err)
		}
		for _, r := range rows {
			if out[r.SellerID] == nil {
				out[r.SellerID] = map[health.MetricID]health.Hold{}
			}
			out[r.SellerID][r.Metric] = health.Hold{SellerID: r.SellerID, Metric: r.Metric, CaseID: r.CaseID,
				WithdrawnAt: r.WithdrawnAt, Numerator: r.Numerator, Denominator: r.Denominator, Value: r.Value}
		}
	}
	return out, nil
}

// recordHold keeps, with a case's transition, what it means for later breaches
// of its metric (health.Hold): a withdrawal leaves a hold at the figures the case
// last knew; a new case of the metric ends the hold.
func recordHold(tx *gorm.DB, r CaseRecord) error {
	c := r.Case
	if c.Kind != string(health.MetricBreach) || c.Metric == nil {
		return nil
	}
	if r.Event.Type == "opened" {
		if err := tx.Where("seller_id = ? AND metric = ?", c.SellerID, *c.Metric).Delete(&holdRow{}).Error; err != nil {
			return fmt.Errorf("end the hold of %s/%s: %w", c.SellerID, *c.Metric, err)
		}
		return nil
	}
	if c.State != string(health.Withdrawn) || r.Event.ToState != string(health.Withdrawn) {
		return nil
	}
	var ev Evidence
	if err := json.Unmarshal([]byte(c.Evidence), &ev); err != nil {
		return fmt.Errorf("evidence of %s: %w", c.ID, err)
	}
	h := holdRow{SellerID: c.SellerID, Metric: health.MetricID(*c.Metric), CaseID: c.ID, WithdrawnAt: r.Event.At,
		Numerator: ev.Numerator, Denominator: ev.Denominator, Value: ev.Value}
	// A breach found again at new figures is told to the case (case_told) without
	// changing its evidence: the later of the two is what the case last knew.
	var told Told
	err := tx.Where("seller_id = ? AND metric = ?", c.SellerID, *c.Metric).Take(&told).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return fmt.Errorf("what the case of %s/%s was told: %w", c.SellerID, *c.Metric, err)
	case told.Status == health.Bad && told.Denominator > 0 && told.ToldAt.After(ev.WindowEnd):
		v := float64(told.Numerator) / float64(told.Denominator)
		h.Numerator, h.Denominator, h.Value = told.Numerator, told.Denominator, &v
	}
	if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&h).Error; err != nil {
		return fmt.Errorf("keep the hold of %s/%s: %w", c.SellerID, *c.Metric, err)
	}
	return nil
}

// endHolds ends the holds of the metrics an evaluation at instant at found
// within target (health.Hold.Ends), in the transaction that stores its shard.
func endHolds(tx *gorm.DB, d Dialect, at time.Time, sellers []string, results []SellerMetrics) error {
	var rows []holdRow
	for _, c := range chunks(len(sellers), maxParams(d)-10) {
		var some []holdRow
		if err := tx.Where("seller_id IN ?", sellers[c.from:c.from+c.n]).Find(&some).Error; err != nil {
			return fmt.Errorf("metric holds: %w", err)
		}
		rows = append(rows, some...)
	}
	if len(rows) == 0 {
		return nil
	}
	status := map[string]map[health.MetricID]health.Status{}
	for _, sm := range results {
		status[sm.SellerID] = map[health.MetricID]health.Status{}
		for _, r := range sm.Metrics {
			status[sm.SellerID][r.Metric] = r.Status
		}
	}
	for _, r := range rows {
		h := health.Hold{WithdrawnAt: r.WithdrawnAt}
		if !h.Ends(status[r.SellerID][r.Metric], at) {
			continue
		}
		if err := tx.Where("seller_id = ? AND metric = ? AND case_id = ?", r.SellerID, r.Metric, r.CaseID).Delete(&holdRow{}).Error; err != nil {
			return fmt.Errorf("end the hold of %s/%s: %w", r.SellerID, r.Metric, err)
		}
	}
	return nil
}

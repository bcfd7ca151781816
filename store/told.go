package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
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
	// RunID is the case's run that took it: a breach told to a run that has
	// not written its case row yet belongs to a case that is opening.
	RunID string
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

// RecordedRuns says which of the runs have written their case row.
func (s *Store) RecordedRuns(ctx context.Context, runIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(runIDs))
	for _, c := range chunks(len(runIDs), maxParams(s.dialect)-10) {
		var ids []string
		if err := s.read.WithContext(ctx).Model(&CaseRow{}).Where("run_id IN ?", runIDs[c.from:c.from+c.n]).Pluck("run_id", &ids).Error; err != nil {
			return nil, fmt.Errorf("recorded case runs: %w", err)
		}
		for _, id := range ids {
			out[id] = true
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

// CaseTell is one piece of news an evaluation queued for a case: an observation
// (JSON) for the case's workflow, or, with no workflow id, a breach that opens a
// case. ToldAt is set once Temporal took it.
type CaseTell struct {
	EvaluationID string          `gorm:"primaryKey"`
	SellerID     string          `gorm:"primaryKey"`
	Metric       health.MetricID `gorm:"primaryKey"`
	WorkflowID   string
	Observation  string
	ToldAt       *time.Time `gorm:"serializer:unixms"`
}

func (CaseTell) TableName() string { return "case_tells" }

// QueueTells stores what a shard has to tell; a retried shard queues nothing twice.
func (s *Store) QueueTells(ctx context.Context, tells []CaseTell) error {
	if len(tells) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(tells, 500).Error; err != nil {
		return fmt.Errorf("queue case tells: %w", err)
	}
	return nil
}

// UntoldTells reads what an evaluation queued and has not told yet.
func (s *Store) UntoldTells(ctx context.Context, evaluationID string) ([]CaseTell, error) {
	var out []CaseTell
	err := s.db.WithContext(ctx).Where("evaluation_id = ? AND told_at IS NULL", evaluationID).
		Order("seller_id, metric").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("untold case tells: %w", err)
	}
	return out, nil
}

// MarkTold records that Temporal took a queued tell, and what the case now knows.
func (s *Store) MarkTold(ctx context.Context, t Told) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&t).Error; err != nil {
			return fmt.Errorf("save told case: %w", err)
		}
		err := tx.Model(&CaseTell{}).Where("evaluation_id = ? AND seller_id = ? AND metric = ?", t.EvaluationID, t.SellerID, string(t.Metric)).
			Update("told_at", t.ToldAt.UnixMilli()).Error
		if err != nil {
			return fmt.Errorf("mark case told: %w", err)
		}
		return nil
	})
}

// TellCounts is how many tells an evaluation queued, and how many were told.
type TellCounts struct {
	ToTell int `json:"to_tell"`
	Told   int `json:"told"`
}

// CaseTellCounts counts an evaluation's queued and told tells.
func (s *Store) CaseTellCounts(ctx context.Context, evaluationID string) (TellCounts, error) {
	var c TellCounts
	err := s.read.WithContext(ctx).Model(&CaseTell{}).Where("evaluation_id = ?", evaluationID).
		Select("COUNT(*) AS to_tell, COUNT(told_at) AS told").Scan(&c).Error
	if err != nil {
		return c, fmt.Errorf("case tells of %s: %w", evaluationID, err)
	}
	return c, nil
}

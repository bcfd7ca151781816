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

// Evaluation statuses.
const (
	EvaluationRunning   = "running"
	EvaluationCompleted = "completed"
	EvaluationFailed    = "failed"
)

// Evaluation is one run of the metrics over some or all sellers.
type Evaluation struct {
	ID               string      `gorm:"primaryKey" json:"id"`
	Status           string      `json:"status"`
	Trigger          string      `json:"trigger"`
	SellerIDs        *string     `json:"-"`
	AsOf             *int64      `json:"-"`
	AsOfTime         *time.Time  `gorm:"-" json:"as_of,omitempty"` // the instant the metrics were computed at
	SellersTotal     int         `json:"sellers_total"`
	SellersEvaluated int         `json:"sellers_evaluated"`
	Breaches         int         `json:"breaches"`
	Error            *string     `json:"error,omitempty"`
	StartedAt        time.Time   `gorm:"serializer:unixms" json:"started_at"`
	FinishedAt       *time.Time  `gorm:"serializer:unixms" json:"finished_at,omitempty"`
	Cases            *TellCounts `gorm:"-" json:"cases,omitempty"` // what its cases are to be told, and were
}

// CreateEvaluation records an evaluation as running.
func (s *Store) CreateEvaluation(ctx context.Context, id, trigger string, sellerIDs []string) (Evaluation, error) {
	e := Evaluation{ID: id, Status: EvaluationRunning, Trigger: trigger, StartedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if sellerIDs != nil {
		b, _ := json.Marshal(sellerIDs)
		str := string(b)
		e.SellerIDs = &str
	}
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		if isUniqueViolation(err) {
			return e, fmt.Errorf("evaluation %s: %w", id, ErrConflict)
		}
		return e, fmt.Errorf("create evaluation: %w", err)
	}
	return e, nil
}

// Evaluation reads one evaluation.
func (s *Store) Evaluation(ctx context.Context, id string) (Evaluation, error) {
	var e Evaluation
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return e, fmt.Errorf("evaluation %s: %w", id, ErrNotFound)
	}
	if e.AsOf != nil {
		t := fromMS(*e.AsOf)
		e.AsOfTime = &t
	}
	return e, err
}

// PlanShards cuts the sellers to evaluate into shards of at most size: ranges of
// ids for all sellers (so a plan stays small however many there are), lists for
// an explicit selection. It also records the total and the instant evaluated.
func (s *Store) PlanShards(ctx context.Context, evaluationID string, sellerIDs []string, size int, asOf time.Time) ([]Shard, error) {
	var shards []Shard
	total := 0
	db := s.db.WithContext(ctx)
	if sellerIDs != nil {
		var ids []string
		if len(sellerIDs) > 0 {
			var err error
			if ids, err = queryStrings(db, "SELECT id FROM sellers WHERE id IN ? ORDER BY id", distinct(sellerIDs)); err != nil {
				return nil, fmt.Errorf("plan shards: %w", err)
			}
		}
		for _, c := range chunks(len(ids), size) {
			shards = append(shards, Shard{IDs: ids[c.from : c.from+c.n]})
		}
		total = len(ids)
	} else {
		ids, err := queryStrings(db, "SELECT id FROM sellers ORDER BY id")
		if err != nil {
			return nil, fmt.Errorf("plan shards: %w", err)
		}
		for _, c := range chunks(len(ids), size) {
			shards = append(shards, Shard{From: ids[c.from], To: ids[c.from+c.n-1]})
		}
		total = len(ids)
	}
	err := db.Model(&Evaluation{}).Where("id = ?", evaluationID).
		Updates(map[string]any{"sellers_total": total, "as_of": ms(asOf)}).Error
	if err != nil {
		return nil, fmt.Errorf("plan shards: %w", err)
	}
	return shards, nil
}

// sellerSnapshot is one seller's evaluation as stored: the history trends are
// drawn from.
type sellerSnapshot struct {
	EvaluationID string
	SellerID     string
	EvaluatedAt  int64
	Metrics      string // JSON of []MetricDoc
}

// SellerHealthRow is the latest evaluation of a seller.
type SellerHealthRow struct {
	SellerID          string `gorm:"primaryKey"`
	EvaluationID      string
	EvaluatedAt       int64
	DefectFreeShipped int64
	RatingBonus       int
	ExpiredOrders     int64
	Metrics           string // JSON of []MetricDoc: the read model of the health page
}

// MetricDoc is one metric as the API shows it (the Metric schema of api/openapi.yaml, with its
// title and window) and as the documents of seller_health and seller_snapshots
// hold it: the health endpoint sends the stored document as it is.
type MetricDoc struct {
	Metric      health.MetricID `json:"metric"`
	Title       string          `json:"title"`
	Numerator   int64           `json:"numerator"`
	Denominator int64           `json:"denominator"`
	Value       *float64        `json:"value"`
	Target      health.Target   `json:"target"`
	WindowDays  int             `json:"window_days"`
	WindowStart time.Time       `json:"window_start"`
	WindowEnd   time.Time       `json:"window_end"`
	Status      health.Status   `json:"status"`
	Parts       *DefectParts    `json:"parts,omitempty"`    // odr only
	Evidence    *MetricEvidence `json:"evidence,omitempty"` // bad metrics only
}

// MetricEvidence is what a bad metric cites, at most MaxEvidenceIDs ids: the
// orders behind it, or for response_rate the buyer messages (order_ids then
// empty), as a case's evidence has them.
type MetricEvidence struct {
	OrderIDs   []string `json:"order_ids"`
	MessageIDs []string `json:"message_ids,omitempty"`
}

// DocOf is a computed metric as a document.
func DocOf(r MetricResult) MetricDoc {
	d := MetricDoc{Metric: r.Metric, Title: health.Define(r.Metric).Title, Numerator: r.Numerator, Denominator: r.Denominator,
		Value: r.Value, Target: r.Policy.Target, WindowDays: r.Policy.WindowDays,
		WindowStart: fromMS(ms(r.WindowStart)), WindowEnd: fromMS(ms(r.WindowEnd)), Status: r.Status, Parts: r.Parts}
	if r.Status == health.Bad {
		ids := append([]string{}, r.EvidenceIDs...) // [] rather than null when none
		if r.Metric == health.ResponseRate {
			d.Evidence = &MetricEvidence{OrderIDs: []string{}, MessageIDs: ids}
		} else {
			d.Evidence = &MetricEvidence{OrderIDs: ids}
		}
	}
	return d
}

// metricsDocument is the JSON of a seller's metrics.
func metricsDocument(sm SellerMetrics) ([]byte, error) {
	docs := make([]MetricDoc, len(sm.Metrics))
	for i, r := range sm.Metrics {
		docs[i] = DocOf(r)
	}
	return json.Marshal(docs)
}

func (SellerHealthRow) TableName() string { return "seller_health" }

// SaveShard stores the snapshots of a shard, makes them each seller's latest, and
// adds the shard to the evaluation's progress, in one transaction. A retry of the
// same shard (after a worker died) replaces its rows and does not count twice.
func (s *Store) SaveShard(ctx context.Context, evaluationID string, at time.Time, results []SellerMetrics) (breaches int, err error) {
	snaps := make([]sellerSnapshot, 0, len(results))
	latest := make([]SellerHealthRow, 0, len(results))
	sellers := make([]string, 0, len(results))
	for _, sm := range results {
		sellers = append(sellers, sm.SellerID)
		for _, r := range sm.Metrics {
			if r.Status == health.Bad {
				breaches++
			}
		}
		// One document, evidence of breaches included, for the history and the health page.
		doc, err := metricsDocument(sm)
		if err != nil {
			return 0, fmt.Errorf("save shard of evaluation %s: %w", evaluationID, err)
		}
		snaps = append(snaps, sellerSnapshot{EvaluationID: evaluationID, SellerID: sm.SellerID, EvaluatedAt: ms(at), Metrics: string(doc)})
		latest = append(latest, SellerHealthRow{SellerID: sm.SellerID, EvaluationID: evaluationID, EvaluatedAt: ms(at),
			DefectFreeShipped: sm.DefectFreeShipped, RatingBonus: health.Bonus(sm.DefectFreeShipped), ExpiredOrders: sm.ExpiredOrders,
			Metrics: string(doc)})
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if len(snaps) == 0 {
			return nil
		}
		// The shard is written in one transaction, so one row tells whether a retry
		// finds it done (a worker died after the commit): then it changes nothing.
		// A single primary-key probe, because scanning a growing snapshot table per
		// shard is what made large sweeps slow.
		var done int64
		if err := tx.Table("seller_snapshots").Where("evaluation_id = ? AND seller_id = ?",
			evaluationID, snaps[0].SellerID).Count(&done).Error; err != nil {
			return err
		}
		if done > 0 {
			return nil
		}
		if err := bonusLedger(tx, evaluationID, at, latest, sellers); err != nil {
			return err
		}
		if err := expiredPenaltyLedger(tx, at, sellers); err != nil {
			return err
		}
		if err := endHolds(tx, s.dialect, at, sellers, results); err != nil {
			return err
		}
		{
			// insertRows, not GORM's batch create: that costs more than the sweep's SQL.
			err := insertRows(tx, s.dialect, "seller_snapshots", []string{"evaluation_id text", "seller_id text", "evaluated_at bigint", "metrics text"},
				len(snaps), func(i int) []any {
					x := snaps[i]
					return []any{x.EvaluationID, x.SellerID, x.EvaluatedAt, x.Metrics}
				})
			if err != nil {
				return fmt.Errorf("insert snapshots: %w", err)
			}
			// Keep the newest evaluation as the latest even if an older one finishes after it.
			err = tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "seller_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"evaluation_id", "evaluated_at", "defect_free_shipped", "rating_bonus", "expired_orders", "metrics"}),
				Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "seller_health.evaluated_at <= excluded.evaluated_at"}}},
			}).CreateInBatches(latest, 1000).Error
			if err != nil {
				return fmt.Errorf("update seller health: %w", err)
			}
		}
		return tx.Model(&Evaluation{}).Where("id = ?", evaluationID).Updates(map[string]any{
			"sellers_evaluated": gorm.Expr("sellers_evaluated + ?", len(results)),
			"breaches":          gorm.Expr("breaches + ?", breaches),
		}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("save shard of evaluation %s: %w", evaluationID, err)
	}
	return breaches, nil
}

// FinishEvaluation marks an evaluation completed, or failed with the reason.
func (s *Store) FinishEvaluation(ctx context.Context, id string, failure string) error {
	up := map[string]any{"status": EvaluationCompleted, "finished_at": ms(time.Now())}
	if failure != "" {
		up["status"], up["error"] = EvaluationFailed, failure
	}
	if err := s.db.WithContext(ctx).Model(&Evaluation{}).Where("id = ?", id).Updates(up).Error; err != nil {
		return fmt.Errorf("finish evaluation %s: %w", id, err)
	}
	return nil
}

// bonusLedger records, for each seller whose rating bonus this evaluation changes,
// a ledger entry with its cause, so the score never moves without a reason.
func bonusLedger(tx *gorm.DB, evaluationID string, at time.Time, latest []SellerHealthRow, sellers []string) error {
	if len(sellers) == 0 {
		return nil
	}
	var prev []SellerHealthRow
	if err := tx.Select("seller_id", "rating_bonus").Where("seller_id IN ? AND evaluated_at <= ?", sellers, ms(at)).Find(&prev).Error; err != nil {
		return fmt.Errorf("previous rating bonus: %w", err)
	}
	old := make(map[string]int, len(prev))
	for _, p := range prev {
		old[p.SellerID] = p.RatingBonus
	}
	var entries []LedgerEntry
	for _, l := range latest {
		if delta := l.RatingBonus - old[l.SellerID]; delta != 0 {
			entries = append(entries, LedgerEntry{SellerID: l.SellerID, Key: "bonus/" + evaluationID, At: at.UTC(), Delta: delta,
				Cause: health.BonusCause(l.DefectFreeShipped, l.RatingBonus)})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(entries, 1000).Error
}

// expiredPenaltyLedger records, for each case of these sellers opened before the
// rating's lookback, that its points no longer count: an entry giving back what
// the case's own entries still take, so the changes listed always add up to the
// score. Once recorded, the case's entries add up to nothing and it is not
// written again.
func expiredPenaltyLedger(tx *gorm.DB, at time.Time, sellers []string) error {
	if len(sellers) == 0 {
		return nil
	}
	var rows []struct {
		CaseID   string
		SellerID string
		Taken    int
	}
	err := tx.Raw(`SELECT l.case_id, l.seller_id, SUM(l.delta) AS taken FROM rating_ledger l JOIN cases c ON c.id = l.case_id
		WHERE c.seller_id IN ? AND c.opened_at < ? GROUP BY l.case_id, l.seller_id HAVING SUM(l.delta) <> 0`,
		sellers, ms(at.Add(-health.RatingLookback))).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("expired case penalties: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	entries := make([]LedgerEntry, len(rows))
	for i, r := range rows {
		caseID := r.CaseID
		entries[i] = LedgerEntry{SellerID: r.SellerID, Key: "case/" + r.CaseID + "/expired", At: at.UTC(), Delta: -r.Taken,
			Cause: health.ExpiredPenaltyCause(r.CaseID, -r.Taken), CaseID: &caseID}
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(entries, 1000).Error
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/accounthealth/accounthealth/health"
)

// The window metrics of tiers and programs count the orders placed in a window
// [@from, @to), each judged as of @to: facts recorded at or after @to are not yet
// known, so a window evaluated again reads the same.
const (
	// Defects removed by upheld disputes are not counted (bits as in metrics.go).
	windowDefect = `((COALESCE(o.feedback_rating, 0) IN (1, 2) AND o.feedback_at < @to AND (o.excused_defects & 1) = 0)
   OR (COALESCE(o.claim_outcome, 'denied') <> 'denied' AND o.claim_at < @to AND (o.excused_defects & 2) = 0)
   OR (o.chargeback_at < @to AND (o.excused_defects & 4) = 0))`
	// NULL-safe on purpose: it is also used under NOT, where a NULL would drop the row.
	windowCancelledBeforeShipping = `(o.cancelled_at IS NOT NULL AND o.cancelled_at < @to AND (o.shipped_at IS NULL OR o.cancelled_at < o.shipped_at))`
)

var windowCountsSQL = `SELECT o.seller_id, COUNT(*),
  COUNT(CASE WHEN ` + windowDefect + ` THEN 1 END),
  COUNT(CASE WHEN o.cancelled_by IN ('seller', 'expired') AND ` + windowCancelledBeforeShipping + ` AND (o.excused_defects & 64) = 0 THEN 1 END),
  COUNT(CASE WHEN NOT ` + windowCancelledBeforeShipping + ` AND o.ship_by < @to AND NOT (o.shipped_at IS NOT NULL AND o.shipped_at <= o.ship_by) AND (o.excused_defects & 8) = 0 THEN 1 END),
  COUNT(CASE WHEN NOT ` + windowCancelledBeforeShipping + ` THEN 1 END),
  COUNT(CASE WHEN o.shipped_at < @to AND ((o.tracking_number IS NOT NULL AND o.tracking_number <> '' AND o.first_scan_at < @to) OR (o.excused_defects & 16) <> 0) THEN 1 END),
  COUNT(CASE WHEN o.shipped_at < @to THEN 1 END),
  COUNT(CASE WHEN o.delivered_at < @to AND o.returned_at < @to AND (o.excused_defects & 128) = 0 THEN 1 END),
  COUNT(CASE WHEN o.delivered_at < @to THEN 1 END)
FROM orders o
WHERE %s AND o.placed_at >= @from AND o.placed_at < @to
GROUP BY o.seller_id`

// WindowCounts counts, for every seller of a shard, the orders placed in
// [from, to) and the window metrics (health.WindowMetrics), in one pass over
// those orders. Every seller of the shard is in the answer, those without orders
// with zero counts; the sellers come back in id order.
func (s *Store) WindowCounts(ctx context.Context, sh Shard, from, to time.Time) ([]string, map[string]health.WindowCounts, error) {
	ids, err := s.ShardSellers(ctx, sh)
	if err != nil {
		return nil, nil, err
	}
	db := s.read.WithContext(ctx)
	out := make(map[string]health.WindowCounts, len(ids))
	for _, id := range ids {
		out[id] = health.WindowCounts{Metrics: map[health.MetricID]health.Fraction{}}
	}
	if len(ids) == 0 {
		return ids, out, nil
	}
	cond, shardArgs := sh.where("o.seller_id")
	args := append(shardArgs, sql.Named("from", ms(from)), sql.Named("to", ms(to)))
	rows, err := db.Raw(fmt.Sprintf(windowCountsSQL, cond), toAny(args)...).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("window counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seller string
		var n, defects, cancels, late, lateDen, tracked, shipped, returned, delivered int64
		if err := rows.Scan(&seller, &n, &defects, &cancels, &late, &lateDen, &tracked, &shipped, &returned, &delivered); err != nil {
			return nil, nil, fmt.Errorf("scan window counts: %w", err)
		}
		if _, ok := out[seller]; !ok {
			continue // created after the shard's list was read
		}
		out[seller] = health.WindowCounts{Orders: n, Metrics: map[health.MetricID]health.Fraction{
			health.ODR:               {Num: defects, Den: n},
			health.CancelRate:        {Num: cancels, Den: n},
			health.LateShipmentRate:  {Num: late, Den: lateDen},
			health.ValidTrackingRate: {Num: tracked, Den: shipped},
			health.ReturnRate:        {Num: returned, Den: delivered},
		}}
	}
	return ids, out, rows.Err()
}

// ShardSellers lists the sellers of a shard in id order.
func (s *Store) ShardSellers(ctx context.Context, sh Shard) ([]string, error) {
	cond, args := sh.where("id")
	ids, err := queryStrings(s.read.WithContext(ctx), "SELECT id FROM sellers WHERE "+cond+" ORDER BY id", toAny(args)...)
	if err != nil {
		return nil, fmt.Errorf("list shard sellers: %w", err)
	}
	return ids, nil
}

// Tier evaluation statuses are the evaluations' (EvaluationRunning, …).

// TierEvaluation is one evaluation of every seller's tier for a quarter.
type TierEvaluation struct {
	ID               string     `gorm:"primaryKey" json:"id"`
	Quarter          string     `json:"quarter"`
	Status           string     `json:"status"`
	Trigger          string     `json:"trigger"`
	SellersTotal     int        `json:"sellers_total"`
	SellersEvaluated int        `json:"sellers_evaluated"`
	Changed          int        `json:"changed"` // sellers whose tier changed
	Error            *string    `json:"error,omitempty"`
	StartedAt        time.Time  `gorm:"serializer:unixms" json:"started_at"`
	FinishedAt       *time.Time `gorm:"serializer:unixms" json:"finished_at,omitempty"`
}

// CreateTierEvaluation records a tier evaluation as running. ErrConflict when the
// id exists (a scheduled run's retried plan).
func (s *Store) CreateTierEvaluation(ctx context.Context, id, quarter, trigger string) (TierEvaluation, error) {
	e := TierEvaluation{ID: id, Quarter: quarter, Status: EvaluationRunning, Trigger: trigger, StartedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		if isUniqueViolation(err) {
			return e, fmt.Errorf("tier evaluation %s: %w", id, ErrConflict)
		}
		return e, fmt.Errorf("create tier evaluation: %w", err)
	}
	return e, nil
}

// TierEvaluation reads one tier evaluation.
func (s *Store) TierEvaluation(ctx context.Context, id string) (TierEvaluation, error) {
	var e TierEvaluation
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return e, fmt.Errorf("tier evaluation %s: %w", id, ErrNotFound)
	}
	return e, err
}

// PlanTierShards cuts every seller into shards of at most size and records the total.
func (s *Store) PlanTierShards(ctx context.Context, evaluationID string, size int) ([]Shard, error) {
	ids, err := queryStrings(s.db.WithContext(ctx), "SELECT id FROM sellers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("plan tier shards: %w", err)
	}
	var shards []Shard
	for _, c := range chunks(len(ids), size) {
		shards = append(shards, Shard{From: ids[c.from], To: ids[c.from+c.n-1]})
	}
	err = s.db.WithContext(ctx).Model(&TierEvaluation{}).Where("id = ?", evaluationID).Update("sellers_total", len(ids)).Error
	return shards, err
}

// FinishTierEvaluation marks a tier evaluation completed, or failed with the reason.
func (s *Store) FinishTierEvaluation(ctx context.Context, id, failure string) error {
	up := map[string]any{"status": EvaluationCompleted, "finished_at": ms(time.Now())}
	if failure != "" {
		up["status"], up["error"] = EvaluationFailed, failure
	}
	return s.db.WithContext(ctx).Model(&TierEvaluation{}).Where("id = ?", id).Updates(up).Error
}

// SellerTier is a seller's tier for one quarter, with the standing behind it.
type SellerTier struct {
	SellerID     string `gorm:"primaryKey"`
	Quarter      string `gorm:"primaryKey"`
	Tier         string
	Previous     string // the tier before this quarter
	Standing     string // JSON of health.TierStanding
	EvaluationID string
	EvaluatedAt  time.Time `gorm:"serializer:unixms"`
}

// TierChange is what a tier evaluation writes for one seller: the tier, and when
// it changed, the ledger entry and the mail.
type TierChange struct {
	Tier      SellerTier
	Unchanged bool // the quarter's row holds this already (evaluated again): nothing to write
	Ledger    *LedgerEntry
	Mail      *OutboxMail
}

// TiersHeld answers, for each seller, its row for quarter if the quarter was
// evaluated before, and the tier of the latest quarter before it ("" when none).
func (s *Store) TiersHeld(ctx context.Context, sellerIDs []string, quarter string) (map[string]SellerTier, map[string]string, error) {
	current, before := map[string]SellerTier{}, map[string]string{}
	for _, c := range chunks(len(sellerIDs), maxParams(s.dialect)-10) {
		var rows []SellerTier
		err := s.db.WithContext(ctx).Select("seller_id", "quarter", "tier", "previous", "standing").
			Where("seller_id IN ? AND quarter <= ?", sellerIDs[c.from:c.from+c.n], quarter).Order("quarter").Find(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("tiers held before %s: %w", quarter, err)
		}
		for _, r := range rows {
			if r.Quarter == quarter {
				current[r.SellerID] = r
			} else {
				before[r.SellerID] = r.Tier // the latest quarter comes last
			}
		}
	}
	return current, before, nil
}

// SaveTierShard writes a shard's tiers, ledger entries, program changes and mail
// in one transaction, adds the shard to the evaluation's progress, and answers
// the keys of the mail it queued. Evaluated again, a quarter writes the same rows
// and queues no mail a second time.
func (s *Store) SaveTierShard(ctx context.Context, evaluationID string, tiers []TierChange, programs []ProgramChange) (mail []string, err error) {
	changed := 0
	err = s.tx(ctx, func(tx *gorm.DB) error {
		mail = mail[:0]
		var rows []SellerTier
		for _, t := range tiers {
			if !t.Unchanged {
				rows = append(rows, t.Tier)
			}
		}
		if len(rows) > 0 {
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 1000).Error; err != nil {
				return fmt.Errorf("write tiers: %w", err)
			}
		}
		var ledger []LedgerEntry
		var mails []*OutboxMail
		for _, t := range tiers {
			if t.Ledger != nil {
				ledger = append(ledger, *t.Ledger)
				if !t.Unchanged {
					changed++
				}
			}
			if t.Mail != nil {
				mails = append(mails, t.Mail)
			}
		}
		if len(ledger) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(ledger, 1000).Error; err != nil {
				return fmt.Errorf("write rating ledger: %w", err)
			}
		}
		if err := queueMails(tx, mails, &mail); err != nil {
			return err
		}
		if err := saveProgramChanges(tx, programs, &mail); err != nil {
			return err
		}
		if err := writeChanges(tx, tierChanges(tiers)); err != nil {
			return err
		}
		return tx.Model(&TierEvaluation{}).Where("id = ?", evaluationID).Updates(map[string]any{
			"sellers_evaluated": gorm.Expr("sellers_evaluated + ?", len(tiers)),
			"changed":           gorm.Expr("changed + ?", changed),
		}).Error
	})
	return mail, err
}

// queueMails queues each mail unless a mail of its key exists, and adds to queued
// the keys of those not sent yet: a retried write hands back what its first
// attempt queued, so nothing queued goes undelivered.
func queueMails(tx *gorm.DB, mails []*OutboxMail, queued *[]string) error {
	if len(mails) == 0 {
		return nil
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(mails, 500).Error; err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	keys := make([]string, len(mails))
	for i, m := range mails {
		keys[i] = m.Key
	}
	for _, c := range chunks(len(keys), 5000) {
		got, err := queryStrings(tx, "SELECT key FROM outbox WHERE key IN ? AND sent_at IS NULL ORDER BY key", keys[c.from:c.from+c.n])
		if err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
		*queued = append(*queued, got...)
	}
	return nil
}

// SellerTiers reads a seller's tiers, the latest quarter first.
func (s *Store) SellerTiers(ctx context.Context, sellerID string) ([]SellerTier, error) {
	var out []SellerTier
	err := s.read.WithContext(ctx).Where("seller_id = ?", sellerID).Order("quarter DESC").Find(&out).Error
	return out, err
}

// Program statuses.
const (
	ProgramNotEligible = "not_eligible"
	ProgramInvited     = "invited"
	ProgramAccepted    = "accepted"
	ProgramDeclined    = "declined"
	ProgramRevoked     = "revoked"
)

// SellerProgram is where a seller stands with a program.
type SellerProgram struct {
	SellerID   string `gorm:"primaryKey"`
	Program    string `gorm:"primaryKey"`
	Status     string
	Criteria   string     // JSON of []health.Criterion, as last judged
	InvitedAt  *time.Time `gorm:"serializer:unixms"`
	AnsweredAt *time.Time `gorm:"serializer:unixms"`
	RevokedAt  *time.Time `gorm:"serializer:unixms"`
	UpdatedAt  time.Time  `gorm:"serializer:unixms;autoUpdateTime:false"`
}

// ProgramChange is an invitation or a revocation, with its mail.
type ProgramChange struct {
	Program SellerProgram
	Mail    *OutboxMail
}

func saveProgramChanges(tx *gorm.DB, changes []ProgramChange, queued *[]string) error {
	for _, c := range changes {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&c.Program).Error; err != nil {
			return fmt.Errorf("write program %s of %s: %w", c.Program.Program, c.Program.SellerID, err)
		}
		if c.Mail != nil {
			if err := queueMails(tx, []*OutboxMail{c.Mail}, queued); err != nil {
				return err
			}
		}
	}
	return writeChanges(tx, programChanges(changes))
}

// SaveProgramChanges writes invitations or revocations with their mail, and
// answers the keys of the mail queued.
func (s *Store) SaveProgramChanges(ctx context.Context, changes []ProgramChange) ([]string, error) {
	var mail []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		mail = mail[:0]
		return saveProgramChanges(tx, changes, &mail)
	})
	return mail, err
}

// Programs reads the programs of the given sellers, by seller and program.
func (s *Store) Programs(ctx context.Context, sellerIDs []string) (map[string]map[string]SellerProgram, error) {
	out := map[string]map[string]SellerProgram{}
	for _, c := range chunks(len(sellerIDs), maxParams(s.dialect)-10) {
		var rows []SellerProgram
		if err := s.read.WithContext(ctx).Where("seller_id IN ?", sellerIDs[c.from:c.from+c.n]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("programs: %w", err)
		}
		for _, r := range rows {
			if out[r.SellerID] == nil {
				out[r.SellerID] = map[string]SellerProgram{}
			}
			out[r.SellerID][r.Program] = r
		}
	}
	return out, nil
}

// AnswerProgram records a seller's acceptance or refusal of an invitation.
// ErrConflict unless the seller is invited.
func (s *Store) AnswerProgram(ctx context.Context, sellerID, program string, accept bool, now time.Time) (SellerProgram, error) {
	status := ProgramDeclined
	if accept {
		status = ProgramAccepted
	}
	var p SellerProgram
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&SellerProgram{}).Where("seller_id = ? AND program = ? AND status = ?", sellerID, program, ProgramInvited).
			Updates(map[string]any{"status": status, "answered_at": ms(now), "updated_at": ms(now)})
		if res.Error != nil {
			return res.Error
		}
		err := tx.Where("seller_id = ? AND program = ?", sellerID, program).Take(&p).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("program %s of %s: not invited: %w", program, sellerID, ErrConflict)
		case err != nil:
			return err
		case res.RowsAffected == 0:
			return fmt.Errorf("program %s of %s is %s, not invited: %w", program, sellerID, p.Status, ErrConflict)
		}
		return nil
	})
	return p, err
}

// UnsentMail answers which of the keys are queued and not yet sent.
func (s *Store) UnsentMail(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, c := range chunks(len(keys), maxParams(s.dialect)-10) {
		got, err := queryStrings(s.db.WithContext(ctx), "SELECT key FROM outbox WHERE key IN ? AND sent_at IS NULL", keys[c.from:c.from+c.n])
		if err != nil {
			return nil, fmt.Errorf("unsent mail: %w", err)
		}
		for _, k := range got {
			out[k] = true
		}
	}
	return out, nil
}

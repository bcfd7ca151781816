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

// CaseRow is a case in the read model.
type CaseRow struct {
	ID          string `gorm:"primaryKey"`
	WorkflowID  string
	RunID       string
	SellerID    string
	Kind        string
	Metric      *string
	ListingID   *string
	Violation   *string
	Action      string
	State       string
	Enforcement string
	OpenedAt    time.Time  `gorm:"serializer:unixms"`
	Deadline    *time.Time `gorm:"serializer:unixms"`
	ClosedAt    *time.Time `gorm:"serializer:unixms"`
	AppealsUsed int
	MaxAppeals  int
	Escalated   bool
	Evidence    string    // JSON of Evidence
	UpdatedAt   time.Time `gorm:"serializer:unixms;autoUpdateTime:false"`
	// A reviewer's claim on the confirmation, written only by ClaimCase and
	// AssignCase, never by the workflow's records.
	ClaimedBy *string    `gorm:"->"`
	ClaimedAt *time.Time `gorm:"serializer:unixms;->"`
}

func (CaseRow) TableName() string { return "cases" }

// Case is the row as the domain's case, for its rules (what it takes now, its
// statement of reasons); the policy holds only what the row keeps.
func (r CaseRow) Case() health.Case {
	c := health.Case{ID: r.ID, SellerID: r.SellerID, Kind: health.CaseKind(r.Kind), Action: health.Action(r.Action),
		State: health.CaseState(r.State), Enforcement: health.Enforcement(r.Enforcement), OpenedAt: r.OpenedAt,
		AppealsUsed: r.AppealsUsed, Escalated: r.Escalated, Policy: health.CasePolicy{MaxAppeals: r.MaxAppeals}}
	if r.Metric != nil {
		c.Metric = health.MetricID(*r.Metric)
	}
	if r.ListingID != nil {
		c.ListingID = *r.ListingID
	}
	if r.Violation != nil {
		c.Violation = *r.Violation
	}
	if r.Deadline != nil {
		c.Deadline = *r.Deadline
	}
	return c
}

// Evidence is the statement of reasons' numbers: what was measured and which
// orders (or messages) are behind it.
type Evidence struct {
	Numerator   int64         `json:"numerator"`
	Denominator int64         `json:"denominator"`
	Value       *float64      `json:"value"`
	Target      health.Target `json:"target"`
	WindowDays  int           `json:"window_days"`
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	OrderIDs    []string      `json:"order_ids"`
	MessageIDs  []string      `json:"message_ids,omitempty"`
	Note        string        `json:"note,omitempty"` // a reviewer's description, for policy cases
}

// MarshalJSON leaves out what a policy case has not got: no window, no target.
func (e Evidence) MarshalJSON() ([]byte, error) {
	type plain Evidence
	if e.WindowDays > 0 {
		return json.Marshal(plain(e))
	}
	return json.Marshal(struct {
		plain
		Value       *float64  `json:"value"`
		Target      *struct{} `json:"target"`
		WindowStart *struct{} `json:"window_start"`
		WindowEnd   *struct{} `json:"window_end"`
	}{plain: plain(e)})
}

// MetricResultOf reads a seller's metric from an evaluation result.
func MetricResultOf(sm SellerMetrics, m health.MetricID) (MetricResult, bool) {
	for _, r := range sm.Metrics {
		if r.Metric == m {
			return r, true
		}
	}
	return MetricResult{}, false
}

// CaseEvent is one entry of a case's timeline.
type CaseEvent struct {
	CaseID    string    `gorm:"primaryKey"`
	Seq       int       `gorm:"primaryKey"`
	At        time.Time `gorm:"serializer:unixms"`
	Type      string
	Actor     string
	FromState *string
	ToState   string
	Detail    string // JSON object
}

// AppealRow is a Plan of Action and its decision.
type AppealRow struct {
	ID                 string     `gorm:"primaryKey" json:"id"`
	CaseID             string     `json:"case_id"`
	SellerID           string     `json:"seller_id"`
	Status             string     `json:"status"`
	RootCause          string     `json:"root_cause"`
	CorrectiveActions  string     `json:"corrective_actions"`
	PreventiveMeasures string     `json:"preventive_measures"`
	SubmittedAt        time.Time  `gorm:"serializer:unixms" json:"submitted_at"`
	DecidedAt          *time.Time `gorm:"serializer:unixms" json:"decided_at"`
	DecidedBy          *string    `json:"decided_by"`
	ReasonCode         *string    `json:"reason_code"`
	Message            *string    `json:"message"`
	ReviewDue          *time.Time `gorm:"serializer:unixms" json:"review_due"`
	ClaimedBy          *string    `gorm:"->" json:"-"` // written only by ClaimAppeal, never by the workflow's records
	ClaimedAt          *time.Time `gorm:"serializer:unixms;->" json:"-"`
}

func (AppealRow) TableName() string { return "appeals" }

// Appeal statuses.
const (
	AppealSubmitted     = "submitted"
	AppealApproved      = "approved"
	AppealRejected      = "rejected"
	AppealInfoRequested = "info_requested"
	AppealWithdrawn     = "withdrawn"
)

// LedgerEntry is one change of a seller's rating.
type LedgerEntry struct {
	SellerID string    `gorm:"primaryKey"`
	Key      string    `gorm:"primaryKey"`
	At       time.Time `gorm:"serializer:unixms"`
	Delta    int
	Cause    string
	CaseID   *string
}

func (LedgerEntry) TableName() string { return "rating_ledger" }

// CaseRecord is one transition of a case: everything written together.
type CaseRecord struct {
	Case   CaseRow
	Event  CaseEvent
	Appeal *AppealRow
	Ledger []LedgerEntry
	Mail   []OutboxMail
}

// RecordCase writes a transition in one transaction, with the events it tells
// the marketplace (the case's new state, the seller's status). It is idempotent on the
// event's (case, seq): a retried activity finds it done and changes nothing.
func (s *Store) RecordCase(ctx context.Context, r CaseRecord) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&CaseEvent{}).Where("case_id = ? AND seq = ?", r.Event.CaseID, r.Event.Seq).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		before, err := s.sellerCasesLocked(tx, r.Case.SellerID)
		if err != nil {
			return err
		}
		r.Case.UpdatedAt = time.Now().UTC()
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&r.Case).Error; err != nil {
			return fmt.Errorf("write case %s: %w", r.Case.ID, err)
		}
		if err := tx.Create(&r.Event).Error; err != nil {
			return fmt.Errorf("append to timeline of %s: %w", r.Case.ID, err)
		}
		if r.Appeal != nil {
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(r.Appeal).Error; err != nil {
				return fmt.Errorf("write appeal %s: %w", r.Appeal.ID, err)
			}
		}
		for _, l := range r.Ledger {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&l).Error; err != nil {
				return fmt.Errorf("write rating ledger: %w", err)
			}
		}
		for _, m := range r.Mail {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
				return fmt.Errorf("queue mail %s: %w", m.Key, err)
			}
		}
		if err := recordHold(tx, r); err != nil {
			return err
		}
		changes, err := caseChanges(tx, r, before)
		if err != nil {
			return err
		}
		return writeChanges(tx, changes)
	})
}

// Case reads one case.
func (s *Store) Case(ctx context.Context, id string) (CaseRow, error) {
	var c CaseRow
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, fmt.Errorf("case %s: %w", id, ErrNotFound)
	}
	return c, err
}

// CaseByRun reads the case of a workflow run.
func (s *Store) CaseByRun(ctx context.Context, runID string) (CaseRow, error) {
	var c CaseRow
	err := s.read.WithContext(ctx).Where("run_id = ?", runID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, fmt.Errorf("case of run %s: %w", runID, ErrNotFound)
	}
	return c, err
}

// CaseFilter selects cases; empty fields select all.
type CaseFilter struct {
	SellerID string
	State    string
	Page     Page
}

// Cases lists a page of cases, newest first, and the cursor of the next page.
func (s *Store) Cases(ctx context.Context, f CaseFilter) ([]CaseRow, *Cursor, error) {
	q := s.read.WithContext(ctx).Order("opened_at DESC, id")
	if f.SellerID != "" {
		q = q.Where("seller_id = ?", f.SellerID)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	q = limitPlusOne(after(q, "opened_at", true, "id", f.Page.After), f.Page)
	var out []CaseRow
	if err := q.Find(&out).Error; err != nil {
		return nil, nil, fmt.Errorf("cases: %w", err)
	}
	rows, next := cut(out, f.Page, func(c CaseRow) Cursor { return Cursor{At: c.OpenedAt.UnixMilli(), ID: c.ID} })
	return rows, next, nil
}

// Timeline reads a case's events in order.
func (s *Store) Timeline(ctx context.Context, caseID string) ([]CaseEvent, error) {
	var out []CaseEvent
	return out, s.read.WithContext(ctx).Where("case_id = ?", caseID).Order("seq").Find(&out).Error
}

// AppealsOfCase reads a case's appeals, oldest first.
func (s *Store) AppealsOfCase(ctx context.Context, caseID string) ([]AppealRow, error) {
	var out []AppealRow
	return out, s.read.WithContext(ctx).Where("case_id = ?", caseID).Order("submitted_at, id").Find(&out).Error
}

// Appeal reads one appeal.
func (s *Store) Appeal(ctx context.Context, id string) (AppealRow, error) {
	var a AppealRow
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, fmt.Errorf("appeal %s: %w", id, ErrNotFound)
	}
	return a, err
}

// Appeals lists a page of appeals with a status (all when empty), oldest
// first, and the cursor of the next page.
func (s *Store) Appeals(ctx context.Context, status string, p Page) ([]AppealRow, *Cursor, error) {
	q := s.read.WithContext(ctx).Order("submitted_at, id")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	q = limitPlusOne(after(q, "submitted_at", false, "id", p.After), p)
	var out []AppealRow
	if err := q.Find(&out).Error; err != nil {
		return nil, nil, fmt.Errorf("appeals: %w", err)
	}
	rows, next := cut(out, p, func(a AppealRow) Cursor { return Cursor{At: a.SubmittedAt.UnixMilli(), ID: a.ID} })
	return rows, next, nil
}

// OpenCases returns the open metric cases of the given sellers, keyed by seller and metric.
func (s *Store) OpenCases(ctx context.Context, sellerIDs []string) (map[string]map[health.MetricID]CaseRow, error) {
	out := map[string]map[health.MetricID]CaseRow{}
	var open []string
	for _, st := range health.CaseStates {
		if st.Open() {
			open = append(open, string(st))
		}
	}
	for _, c := range chunks(len(sellerIDs), maxParams(s.dialect)-10) {
		var rows []CaseRow
		err := s.read.WithContext(ctx).Where("seller_id IN ? AND kind = ? AND state IN ?", sellerIDs[c.from:c.from+c.n], string(health.MetricBreach), open).
			Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("open cases: %w", err)
		}
		for _, r := range rows {
			if out[r.SellerID] == nil {
				out[r.SellerID] = map[health.MetricID]CaseRow{}
			}
			out[r.SellerID][health.MetricID(*r.Metric)] = r
		}
	}
	return out, nil
}

// Final is the deactivations that stand: a deactivated account ends every metric's
// cases; a deactivated restriction ends its own metric's.
type Final struct {
	accounts map[string]bool
	metrics  map[string]map[health.MetricID]bool
}

// Closes reports whether a final decision already covers (seller, metric).
func (f Final) Closes(seller string, m health.MetricID) bool {
	return f.accounts[seller] || f.metrics[seller][m]
}

// FinalCases reads the deactivated cases of the given sellers.
func (s *Store) FinalCases(ctx context.Context, sellerIDs []string) (Final, error) {
	f := Final{accounts: map[string]bool{}, metrics: map[string]map[health.MetricID]bool{}}
	for _, c := range chunks(len(sellerIDs), maxParams(s.dialect)-10) {
		var rows []CaseRow
		err := s.read.WithContext(ctx).Select("seller_id", "metric", "enforcement").
			Where("seller_id IN ? AND state = ?", sellerIDs[c.from:c.from+c.n], string(health.Deactivated)).Find(&rows).Error
		if err != nil {
			return f, fmt.Errorf("final cases: %w", err)
		}
		for _, r := range rows {
			if r.Enforcement == string(health.AccountSuspension) {
				f.accounts[r.SellerID] = true
			}
			if r.Metric != nil {
				if f.metrics[r.SellerID] == nil {
					f.metrics[r.SellerID] = map[health.MetricID]bool{}
				}
				f.metrics[r.SellerID][health.MetricID(*r.Metric)] = true
			}
		}
	}
	return f, nil
}

// ReviewerEmails lists every reviewer's address.
func (s *Store) ReviewerEmails(ctx context.Context) ([]string, error) {
	var out []string
	return out, s.read.WithContext(ctx).Model(&Reviewer{}).Order("email").Pluck("email", &out).Error
}

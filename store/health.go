package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

// Health is what is known of a seller's health: their latest evaluated metrics
// (or, before their first evaluation, the metrics computed now), the standing of
// their cases, and the latest changes of their rating.
type Health struct {
	// MetricsJSON is the JSON array of MetricDoc, in the metrics' order: what the
	// API sends as it is. Metrics decodes it for the pages.
	MetricsJSON       json.RawMessage
	DefectFreeShipped int64
	ExpiredOrders     int64      // placed in the last health.ExpiredWindow
	EvaluatedAt       *time.Time // nil when computed on the spot
	Cases             []health.CaseStanding
	Ledger            []LedgerEntry // newest first, at most HealthLedgerEntries
}

// HealthLedgerEntries is how many rating changes Health carries.
const HealthLedgerEntries = 20

// healthSQL reads everything Health holds in one statement, one round trip: the
// health page is the most read thing there is. The metrics are seller_health's
// document; cases and ledger come back as JSON arrays built by each dialect's own
// JSON functions. Parameters: the ledger's length, then the seller. The first
// form starts from seller_health; a seller without a row there (never evaluated,
// or unknown) is read with the second, which starts from sellers.
var healthSQL = func() map[Dialect][2]string {
	q := `SELECT h.evaluated_at, h.defect_free_shipped, h.expired_orders, h.metrics,
  (SELECT %[1]s(%[2]s('state', c.state, 'enforcement', c.enforcement, 'opened_at', c.opened_at))
   FROM cases c WHERE c.seller_id = %[5]s),
  (SELECT %[1]s(%[2]s('at', l.at, 'delta', l.delta, 'cause', l.cause, 'case_id', l.case_id) ORDER BY l.at DESC, l.key DESC)
   FROM (SELECT * FROM rating_ledger WHERE seller_id = %[5]s ORDER BY at DESC, key DESC LIMIT %[3]s) l)
`
	evaluated := q + `FROM seller_health h WHERE h.seller_id = %[4]s`
	bySeller := q + `FROM sellers s LEFT JOIN seller_health h ON h.seller_id = s.id WHERE s.id = %[4]s`
	out := map[Dialect][2]string{}
	for d, f := range map[Dialect][4]any{
		Postgres: {"json_agg", "json_build_object", "$1", "$2"},
		SQLite:   {"json_group_array", "json_object", "?1", "?2"},
	} {
		out[d] = [2]string{fmt.Sprintf(evaluated, append(f[:], "h.seller_id")...), fmt.Sprintf(bySeller, append(f[:], "s.id")...)}
	}
	return out
}()

// LatestHealth reads a seller's Health. A seller never evaluated is computed on
// the spot with the policy p, so a new seller sees real numbers.
func (s *Store) LatestHealth(ctx context.Context, sellerID string, p health.Policy) (Health, error) {
	var (
		evaluatedAt, defectFree, expired   sql.NullInt64
		metricsJSON, casesJSON, ledgerJSON sql.NullString
	)
	// Plain database/sql: at this rate GORM's statement building is a cost of its own.
	var err error
	for _, q := range healthSQL[s.dialect] {
		err = s.readDB().QueryRowContext(ctx, q, HealthLedgerEntries, sellerID).Scan(&evaluatedAt, &defectFree, &expired, &metricsJSON, &casesJSON, &ledgerJSON)
		if !errors.Is(err, sql.ErrNoRows) {
			break
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Health{}, fmt.Errorf("seller %s: %w", sellerID, ErrNotFound)
	}
	if err != nil {
		return Health{}, fmt.Errorf("health of %s: %w", sellerID, err)
	}
	var (
		cases []struct {
			State       string `json:"state"`
			Enforcement string `json:"enforcement"`
			OpenedAt    int64  `json:"opened_at"`
		}
		ledger []struct {
			At     int64   `json:"at"`
			Delta  int     `json:"delta"`
			Cause  string  `json:"cause"`
			CaseID *string `json:"case_id"`
		}
	)
	for _, part := range []struct {
		name string
		src  sql.NullString
		dst  any
	}{{"cases", casesJSON, &cases}, {"ledger", ledgerJSON, &ledger}} {
		if part.src.Valid {
			if err := json.Unmarshal([]byte(part.src.String), part.dst); err != nil {
				return Health{}, fmt.Errorf("health of %s: read %s: %w", sellerID, part.name, err)
			}
		}
	}
	out := Health{Cases: make([]health.CaseStanding, len(cases)), Ledger: make([]LedgerEntry, len(ledger))}
	for i, c := range cases {
		out.Cases[i] = health.CaseStanding{State: health.CaseState(c.State), Enforcement: health.Enforcement(c.Enforcement), OpenedAt: fromMS(c.OpenedAt)}
	}
	for i, l := range ledger {
		out.Ledger[i] = LedgerEntry{SellerID: sellerID, At: fromMS(l.At), Delta: l.Delta, Cause: l.Cause, CaseID: l.CaseID}
	}
	if !metricsJSON.Valid {
		ms, err := s.ComputeMetrics(ctx, Shard{IDs: []string{sellerID}}, time.Now().UTC(), p)
		if err != nil {
			return Health{}, err
		}
		if len(ms) != 1 {
			return Health{}, fmt.Errorf("health of %s: %w", sellerID, ErrNotFound)
		}
		doc, err := metricsDocument(ms[0])
		if err != nil {
			return Health{}, fmt.Errorf("health of %s: %w", sellerID, err)
		}
		out.MetricsJSON, out.DefectFreeShipped, out.ExpiredOrders = doc, ms[0].DefectFreeShipped, ms[0].ExpiredOrders
		return out, nil
	}
	at := fromMS(evaluatedAt.Int64)
	out.EvaluatedAt = &at
	out.MetricsJSON, out.DefectFreeShipped, out.ExpiredOrders = json.RawMessage(metricsJSON.String), defectFree.Int64, expired.Int64
	return out, nil
}

// Metrics decodes the metrics document.
func (h Health) Metrics() ([]MetricDoc, error) {
	var docs []MetricDoc
	if err := json.Unmarshal(h.MetricsJSON, &docs); err != nil {
		return nil, fmt.Errorf("metrics document: %w", err)
	}
	return docs, nil
}

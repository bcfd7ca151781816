package store

import (
	"context"
	"fmt"

	"github.com/accounthealth/accounthealth/health"
)

// RosterRow is what a list of sellers shows of one: who, the facts their rating
// and status follow from, and their latest tier.
type RosterRow struct {
	ID                string
	Name              string
	DefectFreeShipped int64
	Tier              string // "" before any quarter placed them
	Cases             []health.CaseStanding
}

// Roster reads up to limit sellers after the id after (all from the start when
// ""), in id order, with their cases.
func (s *Store) Roster(ctx context.Context, after string, limit int) ([]RosterRow, error) {
	db := s.read.WithContext(ctx)
	rows, err := db.Raw(`SELECT s.id, s.name, COALESCE(h.defect_free_shipped, 0),
  COALESCE((SELECT t.tier FROM seller_tiers t WHERE t.seller_id = s.id ORDER BY t.quarter DESC LIMIT 1), '')
FROM sellers s LEFT JOIN seller_health h ON h.seller_id = s.id
WHERE s.id > ? ORDER BY s.id LIMIT ?`, after, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	defer rows.Close()
	var out []RosterRow
	index := map[string]int{}
	for rows.Next() {
		var r RosterRow
		if err := rows.Scan(&r.ID, &r.Name, &r.DefectFreeShipped, &r.Tier); err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		index[r.ID] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	var cases []CaseRow
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	for _, c := range chunks(len(ids), maxParams(s.dialect)-10) {
		var part []CaseRow
		if err := db.Select("seller_id", "state", "enforcement", "opened_at").Where("seller_id IN ?", ids[c.from:c.from+c.n]).Find(&part).Error; err != nil {
			return nil, fmt.Errorf("roster cases: %w", err)
		}
		cases = append(cases, part...)
	}
	for _, c := range cases {
		r := &out[index[c.SellerID]]
		r.Cases = append(r.Cases, health.CaseStanding{State: health.CaseState(c.State), Enforcement: health.Enforcement(c.Enforcement), OpenedAt: c.OpenedAt})
	}
	return out, nil
}

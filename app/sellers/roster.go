package sellers

import (
	"context"
	"fmt"
	"time"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// Roster reads sellers in id order (store.Store.Roster).
type Roster interface {
	Roster(ctx context.Context, after string, limit int) ([]store.RosterRow, error)
}

// Summary is one seller of the operators' list.
type Summary struct {
	ID        string
	Name      string
	Status    health.SellerStatus
	Score     int
	Band      health.Band
	Tier      string
	OpenCases int
}

// ListFilter selects sellers; empty fields select all.
type ListFilter struct {
	Status, Band, Tier string
}

// List reads a page of sellers in id order that match f, for reviewers and the
// admin. Status and rating follow from each seller's cases and figures, as on the
// health page, so they are judged here, batch after batch of sellers, until the
// page is full or the sellers end.
func (s *Service) List(ctx context.Context, p app.Principal, f ListFilter, page store.Page) ([]Summary, *store.Cursor, error) {
	if p.Role != store.RoleAdmin && p.Role != store.RoleReviewer {
		return nil, nil, app.Forbidden("only reviewers and the admin list sellers")
	}
	problems := map[string]string{}
	switch health.SellerStatus(f.Status) {
	case "", health.Active, health.AtRiskStatus, health.Restricted, health.Suspended, health.DeactivatedSeller:
	default:
		problems["status"] = fmt.Sprintf("%q must be active, at_risk, restricted, suspended or deactivated", f.Status)
	}
	switch health.Band(f.Band) {
	case "", health.Healthy, health.AtRisk, health.Unhealthy:
	default:
		problems["band"] = fmt.Sprintf("%q must be healthy, at_risk or unhealthy", f.Band)
	}
	if f.Tier != "" {
		known := false
		for _, l := range s.Policy.Tiers.Levels {
			known = known || l.Name == f.Tier
		}
		if !known {
			problems["tier"] = fmt.Sprintf("%q is not a tier of the policy", f.Tier)
		}
	}
	if len(problems) > 0 {
		return nil, nil, app.Invalid("bad filter", problems)
	}
	after := ""
	if page.After != nil {
		after = page.After.ID
	}
	limit := page.Limit
	if limit <= 0 {
		limit = store.MaxPage
	}
	batch := max(2*limit, 500)
	since := time.Now().Add(-health.RatingLookback)
	var out []Summary
	for len(out) <= limit { // one more than the page: is there a next one?
		rows, err := s.Roster.Roster(ctx, after, batch)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			score := health.Score(r.DefectFreeShipped, health.Penalties(r.Cases, since))
			sm := Summary{ID: r.ID, Name: r.Name, Status: health.StatusOf(r.Cases), Score: score, Band: health.BandOf(score), Tier: r.Tier}
			if sm.Tier == "" {
				sm.Tier = health.StartTier
			}
			for _, c := range r.Cases {
				if c.State.Open() {
					sm.OpenCases++
				}
			}
			if (f.Status == "" || string(sm.Status) == f.Status) && (f.Band == "" || string(sm.Band) == f.Band) && (f.Tier == "" || sm.Tier == f.Tier) {
				out = append(out, sm)
			}
		}
		if len(rows) < batch {
			break
		}
		after = rows[len(rows)-1].ID
	}
	if len(out) <= limit {
		return out, nil, nil
	}
	out = out[:limit]
	return out, &store.Cursor{ID: out[len(out)-1].ID}, nil
}

package api

import (
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app/cases"
	"github.com/accounthealth/accounthealth/app/sellers"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

type sellersData struct {
	Sellers            []sellers.Summary
	Status, Band, Tier string
	Statuses, Bands    []string
	Tiers              []string
	Next               *string
}

// severity orders statuses worst first, for the console's "at risk first".
var severity = map[health.SellerStatus]int{health.DeactivatedSeller: 0, health.Suspended: 1, health.Restricted: 2, health.AtRiskStatus: 3, health.Active: 4}

// sellersPage is the console's seller list: a page of sellers (in id order, as the
// API pages them), shown worst first: by status, then by rating.
func (s *Server) sellersPage(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	f := sellers.ListFilter{Status: c.QueryParam("status"), Band: c.QueryParam("band"), Tier: c.QueryParam("tier")}
	list, next, err := s.sellers.List(c.Request().Context(), principal(c), f, page)
	if err != nil {
		return err
	}
	sort.SliceStable(list, func(i, j int) bool {
		if a, b := severity[list[i].Status], severity[list[j].Status]; a != b {
			return a < b
		}
		return list[i].Score < list[j].Score
	})
	d := sellersData{Sellers: list, Status: f.Status, Band: f.Band, Tier: f.Tier, Next: nextCursor(next),
		Statuses: []string{"", "at_risk", "restricted", "suspended", "deactivated", "active"}, Bands: []string{"", "unhealthy", "at_risk", "healthy"}}
	d.Tiers = append(d.Tiers, "")
	for _, l := range s.policy.Tiers.Levels {
		d.Tiers = append(d.Tiers, l.Name)
	}
	return s.page(c, http.StatusOK, "sellers", "Sellers", d, "", "")
}

type sellerDetail struct {
	Seller        store.Seller
	Summary       sellers.Health
	Metrics       []metricJSON
	Cases         []store.CaseRow
	Tier          tierJSON
	Programs      []programJSON
	ExpiredOrders int64
}

// sellerPage shows a reviewer one seller: health, cases and tier.
func (s *Server) sellerPage(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
	sel, err := s.sellers.Seller(ctx, p, id)
	if err != nil {
		return err
	}
	h, err := s.sellers.Health(ctx, p, id)
	if err != nil {
		return err
	}
	d := sellerDetail{Seller: sel, Summary: h, ExpiredOrders: h.ExpiredOrders}
	if d.Metrics, err = h.Metrics(); err != nil {
		return err
	}
	views, _, err := s.cases.List(ctx, p, cases.Filter{SellerID: id, Page: store.Page{Limit: 100}})
	if err != nil {
		return err
	}
	for _, v := range views {
		d.Cases = append(d.Cases, v.CaseRow)
	}
	tier, err := s.standing.Tier(ctx, p, id)
	if err != nil {
		return err
	}
	d.Tier = tierOf(tier)
	programs, err := s.standing.Programs(ctx, p, id)
	if err != nil {
		return err
	}
	for _, pr := range programs {
		d.Programs = append(d.Programs, programOf(pr))
	}
	return s.page(c, http.StatusOK, "seller-detail", "Seller "+sel.ID, d, "", "")
}

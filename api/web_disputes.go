package api

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

type disputesData struct {
	Disputes []DisputeJSON
}

// disputesPage is the reviewers' queue of open disputes, oldest first.
func (s *Server) disputesPage(c echo.Context) error {
	rows, _, err := s.disputes.List(c.Request().Context(), principal(c), store.DisputeOpen, store.Page{Limit: 500})
	if err != nil {
		return err
	}
	d := disputesData{}
	for _, r := range rows {
		d.Disputes = append(d.Disputes, disputeJSON(r))
	}
	return s.page(c, http.StatusOK, "disputes", "Disputes", d, "", "")
}

// orderStep is one fact of an order's history, in time order.
type orderStep struct {
	At   time.Time
	What string
}

type disputeData struct {
	Dispute DisputeJSON
	History []orderStep
	Has     []string // the defects the order has now
	Form    map[string]string
	Errors  map[string]string
}

// orderHistory lists what is known of an order, oldest first, beside its dispute.
func orderHistory(o health.Order) []orderStep {
	steps := []orderStep{{o.PlacedAt, "placed; ship by " + o.ShipBy.UTC().Format(time.RFC3339) + ", deliver by " + o.DeliverBy.UTC().Format(time.RFC3339)}}
	add := func(at *time.Time, what string) {
		if at != nil {
			steps = append(steps, orderStep{*at, what})
		}
	}
	tracking := "without a tracking number"
	if o.TrackingNumber != "" {
		tracking = "tracking " + o.TrackingNumber + " (" + o.Carrier + ")"
	}
	add(o.ShippedAt, "shipped, "+tracking)
	add(o.FirstScanAt, "first carrier scan")
	add(o.DeliveredAt, "delivered")
	add(o.CancelledAt, "cancelled by "+o.CancelledBy)
	add(o.ClaimAt, "A-to-z claim, latest outcome "+o.ClaimOutcome)
	add(o.ChargebackAt, "chargeback")
	if o.FeedbackAt != nil {
		add(o.FeedbackAt, "feedback, latest rating "+strconv.Itoa(o.FeedbackRating)+" of 5")
	}
	add(o.ReturnedAt, "returned")
	add(o.SellerRefundAt, "refunded by the seller")
	add(o.MarketplaceRefundAt, "refunded by the marketplace")
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At.Before(steps[j].At) })
	return steps
}

func (s *Server) disputeData(c echo.Context, id string) (disputeData, error) {
	ctx := c.Request().Context()
	d, err := s.disputes.Get(ctx, principal(c), id)
	if err != nil {
		return disputeData{}, err
	}
	o, err := s.store.Order(ctx, d.OrderID)
	if err != nil {
		return disputeData{}, err
	}
	out := disputeData{Dispute: disputeJSON(d), History: orderHistory(o), Form: map[string]string{}, Errors: map[string]string{}}
	for _, x := range health.Defects {
		if _, ok := health.DefectsOf(o, time.Now())[x]; ok {
			out.Has = append(out.Has, string(x))
		}
	}
	return out, nil
}

func (s *Server) disputePage(c echo.Context) error {
	d, err := s.disputeData(c, c.Param("id"))
	if err != nil {
		return err
	}
	flash := ""
	if c.QueryParam("decided") != "" && d.Dispute.Status != store.DisputeOpen {
		flash = "Your decision is recorded: the dispute is " + d.Dispute.Status + " and the seller sees your message."
	}
	return s.page(c, http.StatusOK, "dispute", "Dispute "+d.Dispute.ID, d, flash, "")
}

func (s *Server) disputeDecision(c echo.Context) error {
	id := c.Param("id")
	decision, message := c.FormValue("decision"), c.FormValue("message")
	_, err := s.disputes.Decide(c.Request().Context(), principal(c), id, decision, message)
	var e *app.Error
	if errors.As(err, &e) && (e.Kind == app.KindInvalid || e.Kind == app.KindConflict) {
		d, derr := s.disputeData(c, id)
		if derr != nil {
			return derr
		}
		d.Form = map[string]string{"decision": decision, "message": message}
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		status := http.StatusBadRequest
		if e.Kind == app.KindConflict {
			status = http.StatusConflict
		}
		return s.page(c, status, "dispute", "Dispute "+id, d, "", "The decision was not recorded: "+e.Message+".")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/disputes/"+id+"?decided=1")
}

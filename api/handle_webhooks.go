package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/store"
)

type webhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// webhookJSON is the Webhook schema of api/openapi.yaml: never the secret.
type webhookJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
}

func webhookOf(w store.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, URL: w.URL, Events: w.EventTypes(), CreatedAt: w.CreatedAt}
}

// deliveryJSON is the Delivery schema of api/openapi.yaml; its id is the event's.
type deliveryJSON struct {
	ID             string     `json:"id"`
	EventType      string     `json:"event_type"`
	SellerID       string     `json:"seller_id"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

func (s *Server) createWebhook(c echo.Context) error {
	var req webhookBody
	if err := bind(c, &req); err != nil {
		return err
	}
	w, secret, err := s.webhooks.Register(c.Request().Context(), req.URL, req.Events)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"webhook": webhookOf(w), "secret": secret})
}

func (s *Server) listWebhooks(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	ws, next, err := s.webhooks.List(c.Request().Context(), page)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(ws))
	for i, w := range ws {
		out[i] = webhookOf(w)
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out, "next_cursor": nextCursor(next)})
}

func (s *Server) deleteWebhook(c echo.Context) error {
	if err := s.webhooks.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listDeliveries(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	ds, next, err := s.webhooks.Deliveries(c.Request().Context(), c.Param("id"), c.QueryParam("status"), page)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON{ID: d.EventID, EventType: d.EventType, SellerID: d.SellerID, Status: d.Status, Attempts: d.Attempts,
			LastStatusCode: d.LastStatusCode, LastError: d.LastError, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt}
		if d.Status == store.DeliveryPending {
			next := d.NextAttemptAt
			out[i].NextAttemptAt = &next
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": out, "next_cursor": nextCursor(next)})
}

func (s *Server) retryDelivery(c echo.Context) error {
	if err := s.webhooks.Retry(c.Request().Context(), c.Param("id"), c.Param("delivery")); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": store.DeliveryPending})
}

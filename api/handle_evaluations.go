package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/store"
)

func (s *Server) startEvaluation(c echo.Context) error {
	var req struct {
		SellerIDs *[]string `json:"seller_ids"`
	}
	if c.Request().ContentLength != 0 {
		if err := bind(c, &req); err != nil {
			return err
		}
	}
	var ids []string
	if req.SellerIDs != nil {
		ids = *req.SellerIDs
		if ids == nil {
			ids = []string{} // "seller_ids": [] names nobody, which is refused
		}
	}
	e, err := s.sellers.StartEvaluation(c.Request().Context(), principal(c).Actor(), c.Request().Header.Get("Idempotency-Key"), ids)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": e.ID, "status": store.EvaluationRunning})
}

func (s *Server) getEvaluation(c echo.Context) error {
	e, err := s.sellers.Evaluation(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

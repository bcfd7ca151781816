package api

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows"
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
	ctx := c.Request().Context()
	var ids []string
	if req.SellerIDs != nil {
		ids = *req.SellerIDs
		if len(ids) == 0 {
			return invalid("name at least one seller, or leave seller_ids out to evaluate all", map[string]string{"seller_ids": "must not be empty"})
		}
		fields := map[string]string{}
		for i, id := range ids {
			if _, err := s.store.Seller(ctx, id); err != nil {
				fields[fmt.Sprintf("seller_ids[%d]", i)] = fmt.Sprintf("no seller %q", id)
			}
		}
		if len(fields) > 0 {
			return invalid("unknown sellers", fields)
		}
	}
	id := uuid.NewString()
	if _, err := s.store.CreateEvaluation(ctx, id, "api", ids); err != nil {
		return err
	}
	if err := s.workflows.StartEvaluation(ctx, workflows.EvaluationInput{EvaluationID: id, SellerIDs: ids}); err != nil {
		_ = s.store.FinishEvaluation(ctx, id, "could not start: "+err.Error())
		return fmt.Errorf("start evaluation %s: %w", id, err)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": store.EvaluationRunning})
}

func (s *Server) getEvaluation(c echo.Context) error {
	e, err := s.store.Evaluation(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

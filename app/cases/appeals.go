package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Plan is a seller's Plan of Action.
type Plan struct {
	RootCause          string
	CorrectiveActions  string
	PreventiveMeasures string
	AttachmentIDs      []string // files of this case the plan refers to
}

// MaxIdempotencyKey bounds an Idempotency-Key.
const MaxIdempotencyKey = 200

// SubmitAppeal takes a seller's Plan of Action for a case. With an idempotency
// key, the first request claims the key before anything is sent to the case; a
// retry of the same request gets the first answer, and the key used for another
// case or another plan is refused.
func (s *Service) SubmitAppeal(ctx context.Context, p app.Principal, caseID, key string, plan Plan) (store.AppealRow, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return store.AppealRow{}, err
	}
	problems := health.ValidatePOA(plan.RootCause, plan.CorrectiveActions, plan.PreventiveMeasures)
	if field, problem := s.checkAttachments(ctx, row.ID, plan.AttachmentIDs); field != "" {
		if problems == nil {
			problems = health.Problems{}
		}
		problems[field] = problem
	}
	if problems != nil {
		return store.AppealRow{}, app.Invalid("the Plan of Action is incomplete", problems)
	}
	who := p.Actor()
	appealID, updateID := newAppealID(), ""
	claimed := false
	if key != "" {
		if len(key) > MaxIdempotencyKey {
			return store.AppealRow{}, app.Invalid("the Idempotency-Key is too long",
				map[string]string{"Idempotency-Key": fmt.Sprintf("at most %d characters", MaxIdempotencyKey)})
		}
		digest := plan.digest()
		prev, ok, err := s.Store.ClaimIdempotencyKey(ctx, store.IdempotencyKey{Principal: who, Key: key, Scope: row.ID, RequestHash: digest})
		if err != nil {
			return store.AppealRow{}, err
		}
		if !ok {
			switch {
			case prev.Scope != row.ID:
				return store.AppealRow{}, app.Conflict("this Idempotency-Key was used for case %s; use a new key for every new request", prev.Scope)
			case prev.RequestHash != digest:
				return store.AppealRow{}, app.Conflict("this Idempotency-Key was used for a different Plan of Action; use a new key for every new request")
			case prev.State == store.KeyDone:
				var first store.AppealRow
				if err := json.Unmarshal([]byte(prev.Body), &first); err != nil {
					return first, fmt.Errorf("first answer of idempotency key: %w", err)
				}
				return first, nil
			}
			// The same request is in flight: it sends the same update id, and the case
			// answers both with the one outcome.
		}
		claimed = ok
		appealID = keyedAppealID(who, row.ID, key)
		updateID = "appeal/" + appealID
	}
	killpoint.Hit(killpoint.AppealBeforeUpdate)
	sent, err := s.Flow.SubmitAppeal(ctx, row.WorkflowID, updateID, flow.AppealRequest{CaseID: row.ID, AppealID: appealID,
		RootCause: plan.RootCause, CorrectiveActions: plan.CorrectiveActions, PreventiveMeasures: plan.PreventiveMeasures})
	if err != nil {
		if claimed { // the key is free again for a corrected request
			if rerr := s.Store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), who, key); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return store.AppealRow{}, caseError(err)
	}
	killpoint.Hit(killpoint.AppealAfterUpdate)
	ap, err := s.Store.Appeal(ctx, sent.ID) // written before the case answered
	if err != nil {
		return ap, err
	}
	if len(plan.AttachmentIDs) > 0 && s.Attachments != nil {
		if err := s.Attachments.LinkAppealAttachments(ctx, ap.ID, plan.AttachmentIDs); err != nil {
			return ap, err
		}
	}
	if claimed {
		body, err := json.Marshal(ap)
		if err != nil {
			return ap, err
		}
		if err := s.Store.CompleteIdempotencyKey(ctx, who, key, string(body)); err != nil {
			return ap, err
		}
	}
	return ap, nil
}

// digest identifies a plan's content, to tell a retry from another request.
func (p Plan) digest() string {
	h := sha256.New()
	for _, part := range []string{p.RootCause, p.CorrectiveActions, p.PreventiveMeasures} {
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newAppealID makes an appeal id.
func newAppealID() string {
	return "A-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12])
}

// keyedAppealID derives an appeal id from an idempotency key, so a retry names
// the same appeal.
func keyedAppealID(who, caseID, key string) string {
	k := sha256.Sum256([]byte(who + "\n" + caseID + "\n" + key))
	return "A-" + strings.ToUpper(hex.EncodeToString(k[:])[:12])
}

// caseError turns what a case answered into the use case's errors.
func caseError(err error) error {
	var refused *flow.RefusedError
	var notRecorded *flow.NotRecordedError
	switch {
	case errors.As(err, &refused) && refused.Fields != nil:
		return app.Invalid(refused.Message, refused.Fields)
	case errors.As(err, &refused):
		return app.Conflict("%s", refused.Message)
	case errors.Is(err, flow.ErrCaseClosed):
		return app.Conflict("%s", flow.ErrCaseClosed.Error())
	case errors.As(err, &notRecorded):
		return app.Failed(notRecorded.Message)
	}
	return err
}

// Decision is a reviewer's decision on an appeal.
type Decision struct {
	Decision   health.Decision
	ReasonCode string
	Message    string
}

// Decide applies a reviewer's decision to the appeal under review, and answers the
// appeal and its case as they then stand.
func (s *Service) Decide(ctx context.Context, p app.Principal, appealID string, d Decision) (store.AppealRow, View, error) {
	ap, err := s.Store.Appeal(ctx, appealID)
	if errors.Is(err, store.ErrNotFound) {
		return ap, View{}, app.NotFound("appeal")
	}
	if err != nil {
		return ap, View{}, err
	}
	if problems := health.ValidateDecision(d.Decision, d.ReasonCode, d.Message); problems != nil {
		return ap, View{}, app.Invalid("the decision is incomplete", problems)
	}
	if ap.Status != store.AppealSubmitted {
		return ap, View{}, app.Conflict("appeal %s was already decided: %s", ap.ID, ap.Status)
	}
	if err := s.heldByAnother(ctx, p, ap.ClaimedBy, ap.ClaimedAt, "appeal "+ap.ID); err != nil {
		return ap, View{}, err
	}
	row, err := s.Store.Case(ctx, ap.CaseID)
	if err != nil {
		return ap, View{}, err
	}
	reviewer, err := s.Store.Reviewer(ctx, p.ReviewerID)
	if err != nil {
		return ap, View{}, err
	}
	killpoint.Hit(killpoint.DecisionBeforeUpdate)
	_, err = s.Flow.Decide(ctx, row.WorkflowID, "", flow.DecisionRequest{CaseID: row.ID, AppealID: ap.ID,
		ReviewerID: p.ReviewerID, ReviewerName: reviewer.Name, Decision: d.Decision, ReasonCode: d.ReasonCode,
		Message: strings.TrimSpace(d.Message)})
	if err != nil {
		return ap, View{}, caseError(err)
	}
	killpoint.Hit(killpoint.DecisionAfterUpdate)
	if ap, err = s.Store.Appeal(ctx, appealID); err != nil {
		return ap, View{}, err
	}
	row, err = s.Store.Case(ctx, ap.CaseID)
	if err != nil {
		return ap, View{}, err
	}
	v, err := s.view(ctx, row, true)
	return ap, v, err
}

var appealStatuses = []string{store.AppealSubmitted, store.AppealApproved, store.AppealRejected, store.AppealInfoRequested, store.AppealWithdrawn}

func checkAppealStatus(status string) error {
	if status == "" {
		return nil
	}
	for _, s := range appealStatuses {
		if s == status {
			return nil
		}
	}
	return app.Invalid("unknown status", map[string]string{"status": fmt.Sprintf("must be one of %s", strings.Join(appealStatuses, ", "))})
}

// Appeals lists a page of appeals with a status (all when empty), oldest
// first, and the cursor of the next page.
func (s *Service) Appeals(ctx context.Context, status string, p store.Page) ([]store.AppealRow, *store.Cursor, error) {
	if err := checkAppealStatus(status); err != nil {
		return nil, nil, err
	}
	return s.Store.Appeals(ctx, status, p)
}

// Queue is the reviewers' work: appeals by review deadline, filtered.
func (s *Service) Queue(ctx context.Context, f store.QueueFilter) ([]store.QueueItem, error) {
	if f.Metric != "" && !health.MetricID(f.Metric).Valid() {
		return nil, app.Invalid("unknown metric", map[string]string{"metric": "unknown metric"})
	}
	if err := checkAppealStatus(f.Status); err != nil {
		return nil, err
	}
	return s.Store.ReviewQueue(ctx, f)
}

// AppealStatuses lists the statuses an appeal can have, for filters.
func AppealStatuses() []string { return append([]string(nil), appealStatuses...) }

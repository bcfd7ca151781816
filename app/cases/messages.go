package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/telemetry"
	"github.com/accounthealth/accounthealth/templates"
)

// MessageStore is what the conversation on a case reads and writes.
type MessageStore interface {
	CreateCaseMessage(ctx context.Context, m store.CaseMessage, mail []store.OutboxMail) error
	CaseMessages(ctx context.Context, caseID string) ([]store.CaseMessage, error)
	CaseClaimant(ctx context.Context, caseID string) (*store.Reviewer, error)
	ReviewerEmails(ctx context.Context) ([]string, error)
	app.CourierStore
}

// Mailer sends one message.
type Mailer = app.Mailer

// MessageMax bounds a message's body, in characters.
const MessageMax = 20000

// Message is a message to post on a case.
type Message struct {
	Body          string
	AttachmentIDs []string
}

// PostMessage adds a message from the case's seller or a reviewer to the case's
// conversation (and so its timeline), and mails it to the other side: the seller,
// or the reviewer holding the case's appeal (every reviewer when none does).
func (s *Service) PostMessage(ctx context.Context, p app.Principal, caseID string, m Message) (store.CaseMessage, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return store.CaseMessage{}, err
	}
	if p.Role != store.RoleSeller && p.Role != store.RoleReviewer {
		return store.CaseMessage{}, app.Forbidden("only the case's seller and reviewers write on a case")
	}
	problems := map[string]string{}
	switch n := health.Length(strings.TrimSpace(m.Body)); {
	case n == 0:
		problems["body"] = "is required: write your message"
	case n > MessageMax:
		problems["body"] = fmt.Sprintf("is too long (%d characters); at most %d", n, MessageMax)
	}
	if m.AttachmentIDs == nil {
		m.AttachmentIDs = []string{}
	}
	if field, problem := s.checkAttachments(ctx, row.ID, m.AttachmentIDs); field != "" {
		problems[field] = problem
	}
	if len(problems) > 0 {
		return store.CaseMessage{}, app.Invalid("the message is incomplete", problems)
	}
	seller, err := s.Store.Seller(ctx, row.SellerID)
	if err != nil {
		return store.CaseMessage{}, err
	}
	name := seller.Name
	data := templates.MailData{CaseID: row.ID, CaseURL: s.PublicURL + "/cases/" + row.ID, SellerID: seller.ID, SellerName: seller.Name,
		Message: strings.TrimSpace(m.Body)}
	var to []string
	if p.Role == store.RoleReviewer {
		r, err := s.Store.Reviewer(ctx, p.ReviewerID)
		if err != nil {
			return store.CaseMessage{}, err
		}
		name, data.Reviewer, to = r.Name, r.Name, []string{seller.Email}
	} else if claimant, err := s.Messages.CaseClaimant(ctx, row.ID); err != nil {
		return store.CaseMessage{}, err
	} else if claimant != nil {
		to = []string{claimant.Email}
	} else if to, err = s.Messages.ReviewerEmails(ctx); err != nil {
		return store.CaseMessage{}, err
	}
	ids, _ := json.Marshal(m.AttachmentIDs)
	msg := store.CaseMessage{ID: "M-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12]), CaseID: row.ID,
		Author: p.Actor(), AuthorName: name, Body: strings.TrimSpace(m.Body), AttachmentIDs: string(ids), At: time.Now().UTC()}
	var mail []store.OutboxMail
	if len(to) > 0 {
		r, err := templates.Render(templates.CaseMessage, data)
		if err != nil {
			return msg, err
		}
		toJSON, _ := json.Marshal(to)
		mail = append(mail, store.OutboxMail{Key: "message/" + msg.ID, CaseID: &msg.CaseID, Template: templates.CaseMessage,
			Recipients: string(toJSON), Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML, CreatedAt: msg.At})
	}
	if err := s.Messages.CreateCaseMessage(ctx, msg, mail); err != nil {
		return msg, err
	}
	// Sent at once, as a person waits for it; retried like any mail when that fails.
	for _, o := range mail {
		app.Courier{Store: s.Messages, Mailer: s.Mailer, Deliveries: s.Deliveries, Log: telemetry.Logger(ctx, nil)}.Send(ctx, o, to)
	}
	return msg, nil
}

// checkAttachments accepts only attachments uploaded to this case.
func (s *Service) checkAttachments(ctx context.Context, caseID string, ids []string) (field, problem string) {
	for i, id := range ids {
		ok := false
		if s.Attachments != nil {
			ok, _ = s.Attachments.AttachmentOfCase(ctx, caseID, id)
		}
		if !ok {
			return fmt.Sprintf("attachment_ids[%d]", i), fmt.Sprintf("no attachment %q on this case", id)
		}
	}
	return "", ""
}

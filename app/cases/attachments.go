package cases

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// AttachmentStore is what attachments read and write.
type AttachmentStore interface {
	CreateAttachment(ctx context.Context, a store.Attachment) error
	Attachment(ctx context.Context, id string) (store.Attachment, error)
	AttachmentsOfCase(ctx context.Context, caseID string) ([]store.Attachment, error)
	AttachmentOfCase(ctx context.Context, caseID, id string) (bool, error)
	LinkAppealAttachments(ctx context.Context, appealID string, ids []string) error
	AppealAttachments(ctx context.Context, caseID string) (map[string][]string, error)
}

// MaxAttachment is the largest file a case takes.
const MaxAttachment = 10 << 20

// AttachmentTypes are the kinds of file a case takes, judged by their content.
var AttachmentTypes = []string{"application/pdf", "image/png", "image/jpeg"}

// ErrTooLarge is a file over MaxAttachment.
var ErrTooLarge = fmt.Errorf("the file is larger than %d bytes (10 MiB)", MaxAttachment)

// Attach stores a file on a case, for its seller or a reviewer. Its type is
// judged by its content, never by its name or the client's word.
func (s *Service) Attach(ctx context.Context, p app.Principal, caseID, name string, data []byte) (store.Attachment, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return store.Attachment{}, err
	}
	a, err := newAttachment(p, row.ID, name, data)
	if err != nil {
		return a, err
	}
	return a, s.Attachments.CreateAttachment(ctx, a)
}

// newAttachment checks a file for a case and makes its row, storing nothing:
// ErrTooLarge, or an invalid "file" naming what is wrong with it.
func newAttachment(p app.Principal, caseID, name string, data []byte) (store.Attachment, error) {
	if p.Role != store.RoleSeller && p.Role != store.RoleReviewer {
		return store.Attachment{}, app.Forbidden("only the case's seller and reviewers attach files to a case")
	}
	if len(data) > MaxAttachment {
		return store.Attachment{}, ErrTooLarge
	}
	if len(data) == 0 {
		return store.Attachment{}, app.Invalid("no file", map[string]string{"file": "is required: a PDF, PNG or JPEG file"})
	}
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	ok := false
	for _, t := range AttachmentTypes {
		ok = ok || ct == t
	}
	if !ok {
		return store.Attachment{}, app.Invalid("unsupported file", map[string]string{"file": "must be a PDF, PNG or JPEG file (this one's content is " + ct + ")"})
	}
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == "" || !validName(name) {
		name = "attachment"
	}
	return store.Attachment{ID: "F-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12]), CaseID: caseID, Name: name,
		ContentType: ct, Size: int64(len(data)), Data: data, UploadedBy: p.Actor(), CreatedAt: time.Now().UTC()}, nil
}

// validName keeps a file name printable and short, for the download's header.
func validName(n string) bool {
	if len(n) > 200 {
		return false
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f || r == '"' {
			return false
		}
	}
	return true
}

// Download reads a file for those who may see its case; anyone else is told it
// does not exist.
func (s *Service) Download(ctx context.Context, p app.Principal, id string) (store.Attachment, error) {
	a, err := s.Attachments.Attachment(ctx, id)
	if err != nil {
		return a, app.NotFound("attachment")
	}
	if _, err := s.visible(ctx, p, a.CaseID); err != nil {
		return store.Attachment{}, app.NotFound("attachment")
	}
	return a, nil
}

// Upload is a file sent with a form, not yet stored.
type Upload struct {
	Name string
	Data []byte
}

// SubmitAppealWithFile takes a Plan of Action sent with a new file, as the web
// form sends them. The plan, the file and whether the case takes an appeal are
// all checked before anything is stored, so a bad file or plan leaves nothing
// behind; the file is then kept on the case and listed by the appeal. Only a
// case that changes between the check and the appeal (another appeal at the
// same moment) leaves the file on the case, where its seller sees it.
func (s *Service) SubmitAppealWithFile(ctx context.Context, p app.Principal, caseID string, plan Plan, file Upload) (store.AppealRow, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return store.AppealRow{}, err
	}
	problems := map[string]string{}
	for k, v := range health.ValidatePOA(plan.RootCause, plan.CorrectiveActions, plan.PreventiveMeasures) {
		problems[k] = v
	}
	a, err := newAttachment(p, row.ID, file.Name, file.Data)
	var ae *app.Error
	switch {
	case errors.Is(err, ErrTooLarge):
		problems["file"] = "is too large: " + ErrTooLarge.Error()
	case errors.As(err, &ae) && ae.Kind == app.KindInvalid:
		for k, v := range ae.Fields {
			problems[k] = v
		}
	case err != nil:
		return store.AppealRow{}, err
	}
	if len(problems) > 0 {
		return store.AppealRow{}, app.Invalid("the Plan of Action is incomplete", problems)
	}
	c := row.Case()
	if err := c.CanAppeal(); err != nil {
		return store.AppealRow{}, app.Conflict("%s", err.Error())
	}
	if err := s.Attachments.CreateAttachment(ctx, a); err != nil {
		return store.AppealRow{}, err
	}
	plan.AttachmentIDs = append(plan.AttachmentIDs, a.ID)
	return s.SubmitAppeal(ctx, p, caseID, "", plan)
}

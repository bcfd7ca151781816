package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Attachment is a file attached to a case; Data is read only by Attachment.
type Attachment struct {
	ID          string `gorm:"primaryKey"`
	CaseID      string
	Name        string
	ContentType string
	Size        int64
	Data        []byte
	UploadedBy  string
	CreatedAt   time.Time `gorm:"serializer:unixms;autoCreateTime:false"`
}

func (Attachment) TableName() string { return "attachments" }

// CreateAttachment stores a file.
func (s *Store) CreateAttachment(ctx context.Context, a Attachment) error {
	if err := s.db.WithContext(ctx).Create(&a).Error; err != nil {
		return fmt.Errorf("write attachment %s: %w", a.ID, err)
	}
	return nil
}

// Attachment reads a file with its content.
func (s *Store) Attachment(ctx context.Context, id string) (Attachment, error) {
	var a Attachment
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, fmt.Errorf("attachment %s: %w", id, ErrNotFound)
	}
	return a, err
}

// AttachmentsOfCase lists a case's files, oldest first, without their content.
func (s *Store) AttachmentsOfCase(ctx context.Context, caseID string) ([]Attachment, error) {
	var out []Attachment
	return out, s.read.WithContext(ctx).Omit("data").Select("id", "case_id", "name", "content_type", "size", "uploaded_by", "created_at").
		Where("case_id = ?", caseID).Order("created_at, id").Find(&out).Error
}

// AttachmentOfCase reports whether attachment id belongs to the case.
func (s *Store) AttachmentOfCase(ctx context.Context, caseID, id string) (bool, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&Attachment{}).Where("id = ? AND case_id = ?", id, caseID).Count(&n).Error
	return n > 0, err
}

// LinkAppealAttachments records the files an appeal lists.
func (s *Store) LinkAppealAttachments(ctx context.Context, appealID string, ids []string) error {
	for _, id := range ids {
		err := s.db.WithContext(ctx).Exec("INSERT INTO appeal_attachments (appeal_id, attachment_id) VALUES (?, ?) ON CONFLICT DO NOTHING", appealID, id).Error
		if err != nil {
			return fmt.Errorf("link attachment %s to appeal %s: %w", id, appealID, err)
		}
	}
	return nil
}

// AppealAttachments lists the files each appeal of a case lists, by appeal.
func (s *Store) AppealAttachments(ctx context.Context, caseID string) (map[string][]string, error) {
	var rows []struct{ AppealID, AttachmentID string }
	err := s.read.WithContext(ctx).Raw(`SELECT aa.appeal_id, aa.attachment_id FROM appeal_attachments aa
		JOIN appeals a ON a.id = aa.appeal_id WHERE a.case_id = ? ORDER BY aa.appeal_id, aa.attachment_id`, caseID).Scan(&rows).Error
	out := map[string][]string{}
	for _, r := range rows {
		out[r.AppealID] = append(out[r.AppealID], r.AttachmentID)
	}
	return out, err
}

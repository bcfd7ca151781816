package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CaseMessage is one message of a case's conversation.
type CaseMessage struct {
	ID            string `gorm:"primaryKey"`
	CaseID        string
	Author        string // seller:<id> or reviewer:<id>
	AuthorName    string
	Body          string
	AttachmentIDs string    // JSON array
	At            time.Time `gorm:"serializer:unixms"`
}

func (CaseMessage) TableName() string { return "case_messages" }

// Attachments lists the ids of the attachments the message refers to.
func (m CaseMessage) Attachments() []string {
	out := []string{}
	_ = json.Unmarshal([]byte(m.AttachmentIDs), &out)
	return out
}

// CreateCaseMessage stores a message and the mail that tells the other side, in
// one transaction.
func (s *Store) CreateCaseMessage(ctx context.Context, m CaseMessage, mail []OutboxMail) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("write message %s: %w", m.ID, err)
		}
		return queueIn(tx, mail)
	})
}

// CaseMessages lists a case's messages, oldest first.
func (s *Store) CaseMessages(ctx context.Context, caseID string) ([]CaseMessage, error) {
	var out []CaseMessage
	return out, s.read.WithContext(ctx).Where("case_id = ?", caseID).Order("at, id").Find(&out).Error
}

// CaseClaimant is the reviewer holding the case's appeal under review or, when
// none does, the one who last claimed the case itself, if any.
func (s *Store) CaseClaimant(ctx context.Context, caseID string) (*Reviewer, error) {
	var r []Reviewer
	err := s.read.WithContext(ctx).Raw(`SELECT r.* FROM appeals a JOIN reviewers r ON r.id = a.claimed_by
		WHERE a.case_id = ? AND a.status = ? ORDER BY a.submitted_at DESC LIMIT 1`, caseID, AppealSubmitted).Scan(&r).Error
	if err != nil || len(r) > 0 {
		return firstReviewer(r), err
	}
	err = s.read.WithContext(ctx).Raw(`SELECT r.* FROM cases c JOIN reviewers r ON r.id = c.claimed_by WHERE c.id = ?`, caseID).Scan(&r).Error
	return firstReviewer(r), err
}

func firstReviewer(r []Reviewer) *Reviewer {
	if len(r) == 0 {
		return nil
	}
	return &r[0]
}

package store

import (
	"context"
	"fmt"
	"time"
)

// Kinds of data retention prunes. Everything else (cases, their timelines and
// appeals, the rating ledger, processed event ids, evaluations, tiers) is kept.
const (
	PruneSnapshots      = "snapshots"        // seller_snapshots evaluated before the cut-off
	PruneSentMailBodies = "sent_mail_bodies" // bodies of mail sent before it (the row, its recipients and subject stay)
	PruneSessions       = "sessions"         // sessions expired before it
	PruneLoginTokens    = "login_tokens"     // sign-in links expired before it
	PruneSigninRequests = "signin_requests"  // records of requests for links made before it (the rate limit's)
)

// PruneKinds lists the kinds in the order retention takes them.
var PruneKinds = []string{PruneSnapshots, PruneSentMailBodies, PruneSessions, PruneLoginTokens, PruneSigninRequests}

// PruneBatch deletes (or, for mail bodies, empties) at most limit rows of kind
// older than before, and says how many it did; fewer than limit means none are
// left. Small batches keep each transaction short beside the live traffic.
func (s *Store) PruneBatch(ctx context.Context, kind string, before time.Time, limit int) (int64, error) {
	var q string
	switch kind {
	case PruneSnapshots:
		q = `DELETE FROM seller_snapshots WHERE (evaluation_id, seller_id) IN
			(SELECT evaluation_id, seller_id FROM seller_snapshots WHERE evaluated_at < ? LIMIT ?)`
	case PruneSentMailBodies:
		q = `UPDATE outbox SET text_body = '', html_body = '' WHERE key IN
			(SELECT key FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? AND (text_body <> '' OR html_body <> '') LIMIT ?)`
	case PruneSessions:
		q = `DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at < ? LIMIT ?)`
	case PruneLoginTokens:
		q = `DELETE FROM login_tokens WHERE token_hash IN (SELECT token_hash FROM login_tokens WHERE expires_at < ? LIMIT ?)`
	case PruneSigninRequests:
		row := "rowid" // the table has no key: each dialect's own row address
		if s.dialect == Postgres {
			row = "ctid"
		}
		q = `DELETE FROM signin_requests WHERE ` + row + ` IN (SELECT ` + row + ` FROM signin_requests WHERE at < ? LIMIT ?)`
	default:
		return 0, fmt.Errorf("prune: unknown kind %q", kind)
	}
	res := s.db.WithContext(ctx).Exec(q, ms(before), limit)
	if res.Error != nil {
		return 0, fmt.Errorf("prune %s: %w", kind, res.Error)
	}
	return res.RowsAffected, nil
}

package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/accounthealth/accounthealth/health"
)

// claimEventIDs records the ids of the batch and returns the indexes of the events
// seen for the first time. ON CONFLICT DO NOTHING makes a concurrent batch with the
// same ids wait for this one and then count them as duplicates.
func claimEventIDs(tx *gorm.DB, d Dialect, events []health.Event, receivedAt time.Time) ([]int, error) {
	first := map[string]int{}
	var unique []int
	for i, e := range events {
		if _, seen := first[e.ID]; !seen {
			first[e.ID] = i
			unique = append(unique, i)
		}
	}
	inserted := map[string]bool{}
	claim := func(ids []string, err error) error {
		if err != nil {
			return fmt.Errorf("record event ids: %w", err)
		}
		for _, id := range ids {
			inserted[id] = true
		}
		return nil
	}
	if d == Postgres {
		// One statement whatever the batch's size: four arrays bound as four
		// parameters cost far less to parse and bind than a VALUES list. In id
		// order, so two batches sharing ids wait for each other instead of
		// deadlocking.
		byID := slices.Clone(unique)
		slices.SortFunc(byID, func(a, b int) int { return strings.Compare(events[a].ID, events[b].ID) })
		ids, types, ats, recv := make([]string, len(unique)), make([]string, len(unique)), make([]int64, len(unique)), make([]int64, len(unique))
		for j, i := range byID {
			e := events[i]
			ids[j], types[j], ats[j], recv[j] = e.ID, string(e.Type), ms(e.At), ms(receivedAt)
		}
		if err := claim(pgClaim(tx, ids, types, ats, recv)); err != nil {
			return nil, err
		}
	} else {
		const cols = 4
		for _, chunk := range chunks(len(unique), maxParams(d)/cols) {
			rows := make([]string, 0, chunk.n)
			args := make([]any, 0, chunk.n*cols)
			for _, i := range unique[chunk.from : chunk.from+chunk.n] {
				e := events[i]
				rows = append(rows, "(?, ?, ?, ?)")
				args = append(args, e.ID, string(e.Type), ms(e.At), ms(receivedAt))
			}
			q := "INSERT INTO processed_events (id, type, at, received_at) VALUES " + strings.Join(rows, ", ") +
				" ON CONFLICT (id) DO NOTHING RETURNING id"
			if err := claim(queryStrings(tx, q, args...)); err != nil {
				return nil, err
			}
		}
	}
	fresh := make([]int, 0, len(inserted))
	for _, i := range unique {
		if inserted[events[i].ID] {
			fresh = append(fresh, i)
		}
	}
	return fresh, nil
}

// pgClaim inserts the ids and returns those that were new. Most batches are all
// new, and a plain INSERT costs half of one with ON CONFLICT … RETURNING: so that
// is tried first, under a savepoint, and only a batch holding a seen id pays for
// the second statement.
func pgClaim(tx *gorm.DB, ids, types []string, ats, recv []int64) ([]string, error) {
	const rows = ` FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`
	pool, ctx := tx.Statement.ConnPool, tx.Statement.Context
	if _, err := pool.ExecContext(ctx, "SAVEPOINT claim"); err != nil {
		return nil, err
	}
	_, err := pool.ExecContext(ctx, `INSERT INTO processed_events (id, type, at, received_at) SELECT *`+rows, ids, types, ats, recv)
	if err == nil {
		_, err = pool.ExecContext(ctx, "RELEASE SAVEPOINT claim")
		return ids, err
	}
	if !isUniqueViolation(err) {
		return nil, err
	}
	if _, err := pool.ExecContext(ctx, "ROLLBACK TO SAVEPOINT claim"); err != nil {
		return nil, err
	}
	return pgStrings(tx, `INSERT INTO processed_events (id, type, at, received_at) SELECT *`+rows+` ON CONFLICT (id) DO NOTHING RETURNING id`,
		ids, types, ats, recv)
}

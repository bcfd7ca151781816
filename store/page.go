package store

import (
	"fmt"

	"gorm.io/gorm"
)

// MaxPage is the most rows one page may ask for (the contract's limit).
const MaxPage = 1000

// Page asks for one page of a list kept in a stable order: at most Limit rows
// (all when Limit is 0) after the row that After names.
type Page struct {
	Limit int
	After *Cursor
}

// Cursor names the last row of a page by its sort key and id. Pages are cut by
// key (keyset), not by offset, so a row added or removed between two requests
// neither repeats nor hides another.
type Cursor struct {
	At int64  `json:"at,omitempty"` // the row's sort instant in Unix ms, for lists ordered by time
	ID string `json:"id"`
}

// after restricts q to the rows after c in the order (col, idCol), col
// descending when desc; col "" orders by idCol alone.
func after(q *gorm.DB, col string, desc bool, idCol string, c *Cursor) *gorm.DB {
	if c == nil {
		return q
	}
	if col == "" {
		return q.Where(idCol+" > ?", c.ID)
	}
	op := ">"
	if desc {
		op = "<"
	}
	return q.Where(fmt.Sprintf("(%s %s ? OR (%s = ? AND %s > ?))", col, op, col, idCol), c.At, c.At, c.ID)
}

// limitPlusOne asks for one row more than the page, to learn whether another follows.
func limitPlusOne(q *gorm.DB, p Page) *gorm.DB {
	if p.Limit > 0 {
		return q.Limit(p.Limit + 1)
	}
	return q
}

// cut trims rows read with limitPlusOne to the page and names the cursor of
// the next page, nil when this is the last.
func cut[T any](rows []T, p Page, cursor func(T) Cursor) ([]T, *Cursor) {
	if p.Limit <= 0 || len(rows) <= p.Limit {
		return rows, nil
	}
	rows = rows[:p.Limit]
	c := cursor(rows[len(rows)-1])
	return rows, &c
}

package store

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// insertRows inserts n rows into table. Each column is "name type" (the type is
// Postgres's). On Postgres the rows go as one array per column through unnest, a
// statement of as many parameters as columns whatever n is (cheap to parse and
// bind); on SQLite as multi-row VALUES in as few statements as its parameter
// limit allows.
func insertRows(tx *gorm.DB, d Dialect, table string, columns []string, n int, row func(i int) []any) error {
	names, types := make([]string, len(columns)), make([]string, len(columns))
	for j, c := range columns {
		names[j], types[j], _ = strings.Cut(c, " ")
	}
	var err error
	if d == Postgres {
		err = insertArrays(tx, table, names, types, n, row)
	} else {
		err = insertValues(tx, d, table, names, n, row)
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("insert %s: %w", table, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	return nil
}

func insertValues(tx *gorm.DB, d Dialect, table string, names []string, n int, row func(i int) []any) error {
	cols := len(names)
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for _, c := range chunks(n, maxParams(d)/cols) {
		args := make([]any, 0, c.n*cols)
		for i := c.from; i < c.from+c.n; i++ {
			args = append(args, row(i)...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", c.n), ", ")
		if err := tx.Exec(q, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// insertArrays binds each column as a text array (NULLs kept) and casts it back
// to the column's type in SQL, so one Go type serves every column.
func insertArrays(tx *gorm.DB, table string, names, types []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	rows, args := arrayRows(types, n, row)
	q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") " + rows
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, q, args...)
	return err
}

// arrayRows is a SELECT of n rows whose columns, of the given types, are bound
// as one text array each (NULLs kept) and named column1, column2, … as a bare
// VALUES list names them; and its arguments.
func arrayRows(types []string, n int, row func(i int) []any) (string, []any) {
	arrays := make([][]*string, len(types))
	for j := range arrays {
		arrays[j] = make([]*string, n)
	}
	for i := range n {
		for j, v := range row(i) {
			arrays[j][i] = pgText(v)
		}
	}
	sel, params, aliases, args := make([]string, len(types)), make([]string, len(types)), make([]string, len(types)), make([]any, len(types))
	for j := range types {
		params[j] = fmt.Sprintf("$%d::text[]", j+1)
		sel[j] = fmt.Sprintf("c%d::%s AS column%d", j+1, types[j], j+1)
		aliases[j] = fmt.Sprintf("c%d", j+1)
		args[j] = arrays[j]
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM unnest(" + strings.Join(params, ", ") + ") AS v(" + strings.Join(aliases, ", ") + ")", args
}

// pgText is a value in Postgres's text form; nil for NULL.
func pgText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case *string:
		return x
	case int:
		s = strconv.Itoa(x)
	case *int:
		if x == nil {
			return nil
		}
		s = strconv.Itoa(*x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case *int64:
		if x == nil {
			return nil
		}
		s = strconv.FormatInt(*x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case *float64:
		if x == nil {
			return nil
		}
		s = strconv.FormatFloat(*x, 'g', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		panic(fmt.Sprintf("pgText: no text form for %T", v))
	}
	return &s
}

// queryStrings runs a query of one text column. GORM's Scan is avoided on
// purpose: it renders the whole statement with its arguments into a string on
// every call, which for a 10,000-event batch cost more than the query.
func queryStrings(tx *gorm.DB, q string, args ...any) ([]string, error) {
	return scanStrings(tx.Raw(q, args...).Rows())
}

// pgStrings is queryStrings for Postgres on the transaction's own connection,
// past GORM, which would expand slice arguments into lists: here they are bound
// as arrays.
func pgStrings(tx *gorm.DB, q string, args ...any) ([]string, error) {
	return scanStrings(tx.Statement.ConnPool.QueryContext(tx.Statement.Context, q, args...))
}

func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type span struct{ from, n int }

// chunks cuts n items into spans of at most size.
func chunks(n, size int) []span {
	if size < 1 {
		size = 1
	}
	var out []span
	for from := 0; from < n; from += size {
		out = append(out, span{from, min(size, n-from)})
	}
	return out
}

// maxParams is how many bind parameters one statement may carry, with room to spare.
func maxParams(d Dialect) int {
	if d == SQLite {
		return 30000 // SQLITE_MAX_VARIABLE_NUMBER is 32766
	}
	return 60000 // the Postgres protocol counts parameters in 16 bits
}

func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Permanent reports whether err is one that retrying cannot fix: the database
// refused the data (invalid text, a value out of range, a constraint violated), or
// what the request refers to does not exist. A connection lost or a server away
// is not permanent.
func Permanent(err error) bool {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) && len(pg.Code) == 5 {
		switch pg.Code[:2] {
		case "22", "23": // data exception, integrity constraint violation
			return true
		}
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return true
		}
	}
	return false
}

// Unavailable reports whether err is the database being away (down, out of
// reach, shut down, or too busy to answer in time), so that a caller may ask
// again later, as opposed to a failure of the request itself.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var conn *pgconn.ConnectError
	var op *net.OpError
	if errors.As(err, &conn) || errors.As(err, &op) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) { // a pooled connection cut under a query
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) && len(pg.Code) == 5 {
		switch pg.Code[:2] {
		case "08", "57": // connection exception; operator intervention (shutting down, too many connections)
			return true
		}
		if pg.Code == "53300" { // too many connections
			return true
		}
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// Package store keeps the facts (sellers, keys, orders, messages, events) and the
// read model (metric snapshots, evaluations, seller health) in PostgreSQL or SQLite
// through GORM, with versioned goose migrations for each dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	_ "modernc.org/sqlite" // the pure-Go "sqlite" driver, the one the Temporal server links too
)

//go:embed migrations
var migrations embed.FS

// Dialect is the SQL database behind a Store.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Errors the API maps to its answers.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB // writes, and reads inside transactions
	read    *gorm.DB // reads that stand alone: the same pool on Postgres, readers on SQLite
	dialect Dialect
}

// Open connects to url: "postgres://…" (or "postgresql://…"), or "sqlite://PATH" or
// "file:PATH" for an SQLite file. It does not migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg := &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err := gorm.Open(postgres.Open(url), cfg)
		if err != nil {
			return nil, fmt.Errorf("open %s database: %w", Postgres, err)
		}
		s := &Store{db: db, read: db, dialect: Postgres}
		s.DB().SetMaxOpenConns(20)
		s.DB().SetMaxIdleConns(20)
		return s.connect(ctx)
	case strings.HasPrefix(url, "sqlite://"), strings.HasPrefix(url, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("open sqlite: %w", err)
			}
		}
		// One writer at a time is SQLite's rule: queueing on one connection beats
		// SQLITE_BUSY. In WAL mode readers do not wait for the writer, so reads
		// (health, cases, lists, the health check) go to a pool of read-only
		// connections and answer while a big batch is being written.
		db, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite",
			DSN: "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate"}), cfg)
		if err != nil {
			return nil, fmt.Errorf("open %s database: %w", SQLite, err)
		}
		s := &Store{db: db, dialect: SQLite}
		s.DB().SetMaxOpenConns(1)
		// gorm.Open has connected the writer: the file exists, in WAL mode.
		s.read, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite",
			DSN: "file:" + path + "?_pragma=query_only(1)&_pragma=busy_timeout(10000)"}), cfg)
		if err != nil {
			_ = s.DB().Close()
			return nil, fmt.Errorf("open %s database readers: %w", SQLite, err)
		}
		s.readDB().SetMaxOpenConns(sqliteReaders)
		s.readDB().SetMaxIdleConns(sqliteReaders)
		return s.connect(ctx)
	}
	return nil, fmt.Errorf("database url %q: want postgres://… or sqlite://PATH", RedactURL(url))
}

// connect checks that the database answers within 10 s, and closes it if not.
func (s *Store) connect(ctx context.Context) (*Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := s.DB().PingContext(ctx)
	if err == nil && s.read != s.db {
		err = s.readDB().PingContext(ctx)
	}
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("connect to %s database: %w", s.dialect, err)
	}
	return s, nil
}

// sqliteReaders is how many read-only connections an SQLite store keeps.
const sqliteReaders = 4

// RedactURL hides a password in a database URL before it goes into a message.
func RedactURL(url string) string {
	at := strings.LastIndexByte(url, '@')
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 {
		return url
	}
	userinfo := url[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return url[:scheme+3] + userinfo[:i] + ":***" + url[at:]
	}
	return url
}

// Dialect says which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB is the underlying connection pool (on SQLite, the writer's), for tests.
func (s *Store) DB() *sql.DB {
	d, _ := s.db.DB()
	return d
}

// readDB is the pool of standalone reads.
func (s *Store) readDB() *sql.DB {
	d, _ := s.read.DB()
	return d
}

// Close closes the connection pools.
func (s *Store) Close() error {
	err := s.DB().Close()
	if s.read != s.db {
		err = errors.Join(err, s.readDB().Close())
	}
	return err
}

// Ping checks that the database answers reads; on SQLite it does not wait for a
// write in progress.
func (s *Store) Ping(ctx context.Context) error { return s.readDB().PingContext(ctx) }

// Migrate applies every migration not yet applied and reports what it did.
func (s *Store) Migrate(ctx context.Context) ([]string, error) { return s.MigrateTo(ctx, 0) }

// MigrateTo applies the migrations up to version (0: all of them); tests of a
// migration's data use it to stop before the migration.
func (s *Store) MigrateTo(ctx context.Context, version int64) ([]string, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	d := goose.DialectPostgres
	if s.dialect == SQLite {
		d = goose.DialectSQLite3
	}
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		// Several processes (serve, worker) may start at once; one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(d, s.DB(), sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var results []*goose.MigrationResult
	if version > 0 {
		results, err = p.UpTo(ctx, version)
	} else {
		results, err = p.Up(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", s.dialect, err)
	}
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// tx runs fn in one transaction.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(fn)
}

// ms is the storage form of every instant (see instants.go).
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// msPtr is ms of an instant that may be absent (NULL).
func msPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}

// isUniqueViolation recognises a duplicate key on either dialect.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "UNIQUE constraint failed")
}

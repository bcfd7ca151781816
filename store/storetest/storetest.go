// Package storetest gives tests a fresh, migrated database: a new PostgreSQL
// database per call (dropped at the end) or a new SQLite file.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/accounthealth/accounthealth/store"
)

// PostgresAdminURL is the server tests create their databases on:
// AH_TEST_POSTGRES_URL, or the local server every development machine runs.
func PostgresAdminURL() string {
	if u := os.Getenv("AH_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewPostgresURL creates an empty database and returns its URL; it is dropped when
// the test ends. A test that needs Postgres and finds none fails: it never skips.
func NewPostgresURL(t testing.TB) string {
	t.Helper()
	u, drop, err := CreateDatabase(context.Background(), PostgresAdminURL())
	if err != nil {
		t.Fatalf("%v (is PostgreSQL running? .ci/run starts it)", err)
	}
	t.Cleanup(drop)
	return u
}

// CreateDatabase makes a new, empty database on the server at admin and returns
// its URL and a function that drops it.
func CreateDatabase(ctx context.Context, admin string) (string, func(), error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, fmt.Errorf("postgres at %s: %w", admin, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "ah_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create a database on %s: %w", admin, err)
	}
	drop := func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	}
	u, err := url.Parse(admin)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("parse %s: %w", admin, err)
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// NewPostgres opens and migrates a fresh Postgres database.
func NewPostgres(t testing.TB) *store.Store {
	return open(t, NewPostgresURL(t))
}

// NewSQLite opens and migrates a fresh SQLite file.
func NewSQLite(t testing.TB) *store.Store {
	return open(t, "sqlite://"+filepath.Join(t.TempDir(), "test.db"))
}

// Each runs fn once per dialect, each on a fresh database.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"postgres", NewPostgres}, {"sqlite", NewSQLite}} {
		t.Run(d.name, func(t *testing.T) { fn(t, d.open(t)) })
	}
}

func open(t testing.TB, u string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

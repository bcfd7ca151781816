//go:build !nodev

// The embedded Temporal server and its Web UI (about 1,600 packages) are linked
// only into the default build, for `dev`. `go build -tags nodev` leaves them out:
// serve, worker, migrate, import and temporal-setup need none of it (the image
// ships that build).

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/cmd/accounthealth/internal/devtemporal"
	"github.com/accounthealth/accounthealth/store"
)

// dev runs every part in this process, keeping its state under the data dir.
func (a *app) dev(ctx context.Context) error {
	cfg := &a.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir (AH_DATA_DIR): %w", err)
	}
	if cfg.AdminKey == "" {
		key, err := devAdminKey(filepath.Join(cfg.DataDir, "admin.key"))
		if err != nil {
			return err
		}
		cfg.AdminKey = key
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(cfg.DataDir, "accounthealth.db")
	}
	st, err := a.openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	temporalAddr, uiURL := cfg.TemporalAddress, "(external Temporal)"
	if temporalAddr == "" {
		ts, err := devtemporal.Start(ctx, devtemporal.Options{
			DataDir: cfg.DataDir, Port: cfg.TemporalDevPort, Namespace: cfg.Namespace, Logger: a.log,
		})
		if err != nil {
			return fmt.Errorf("embedded Temporal (AH_TEMPORAL_DEV_PORT=%d): %w", cfg.TemporalDevPort, err)
		}
		a.onClose(func() { _ = ts.Stop() })
		temporalAddr, uiURL = ts.FrontendAddress(), ts.UIAddress()
	}
	var mailbox *capture.Server
	smtpURL := cfg.SMTPURL
	if smtpURL == "" {
		mailbox, err = capture.Start("127.0.0.1:0", filepath.Join(cfg.DataDir, "mail"))
		if err != nil {
			return fmt.Errorf("SMTP capture: %w", err)
		}
		a.onClose(func() { _ = mailbox.Close() })
		smtpURL = mailbox.URL()
	}
	c, err := a.dialTemporal(ctx, temporalAddr)
	if err != nil {
		return err
	}
	if _, err := a.startWorker(c, st, smtpURL); err != nil {
		return err
	}
	// On PostgreSQL the API gets a pool of its own, as it has when serve and
	// worker run apart: 64 clients reading health pages held all 20 connections
	// and queued the sweep's queries behind them (a sweep took 30 times longer).
	// SQLite keeps one store: it allows one writer.
	apiStore := st
	if st.Dialect() == store.Postgres {
		if apiStore, err = store.Open(ctx, dbURL); err != nil {
			return err
		}
		a.onClose(func() { _ = apiStore.Close() })
	}
	srv, err := a.apiServer(apiStore, c, smtpURL, mailbox)
	if err != nil {
		return err
	}
	addr, done, err := a.startHTTP(srv)
	if err != nil {
		return err
	}
	base := "http://" + addr.String()
	mailInfo := smtpURL + " (external)"
	if mailbox != nil {
		mailInfo = smtpURL + ", captured; read it at " + base + "/dev/mail"
	}
	fmt.Fprintf(a.out, `accounthealth dev is running (Ctrl-C stops it; state is kept in %s)
  API:          %s   (reference: %s/openapi.yaml)
  Temporal:     %s   Web UI: %s
  Database:     %s
  Mail:         %s
  Admin key:    %s
`, cfg.DataDir, base, base, temporalAddr, uiURL, store.RedactURL(dbURL), mailInfo, cfg.AdminKey)
	return wait(ctx, done)
}

// devAdminKey reads the dev admin key, or makes one and keeps it for next time.
func devAdminKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := "aha_" + base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep admin key: %w", err)
	}
	return key, nil
}

// Command accounthealth is the whole system in one binary: `dev` runs everything
// on one machine; `serve`, `worker` and `migrate` are its production parts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/telemetry"
)

const usage = `accounthealth: seller account-health cases and appeals

usage: accounthealth <command>

commands:
  dev       everything on one machine: API and web, worker, embedded Temporal
            (with its Web UI), SQLite or AH_DATABASE_URL, and an SMTP capture
  serve     the HTTP API and web only (needs AH_DATABASE_URL, AH_TEMPORAL_ADDRESS, AH_SMTP_URL, AH_ADMIN_KEY)
  worker    the Temporal worker only (needs AH_DATABASE_URL, AH_TEMPORAL_ADDRESS, AH_SMTP_URL)
  migrate   apply the database migrations and exit (needs AH_DATABASE_URL)
  import F  load a file of events (NDJSON, one per line; or CSV if F ends in .csv,
            with a header row of field names) through the same validation
            as POST /v1/events, in chunks, with progress; AH_DATABASE_URL, or the dev
            database under AH_DATA_DIR; safe to re-run

Configuration is read from the environment; see the README.
`

func main() {
	// Crash tests name points where the real binary kills itself (package
	// killpoint). Armed here, not in run, so a test running run in its own
	// process can never arm them against itself.
	if _, err := killpoint.Arm(os.Getenv("AH_KILLPOINTS"), killpoint.Kill); err != nil {
		fmt.Fprintf(os.Stderr, "accounthealth: AH_KILLPOINTS: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program, with its world passed in so tests can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args) != 1 && args[0] != "import") || (args[0] == "import" && len(args) != 2) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	mode := args[0]
	switch mode {
	case "dev", "serve", "worker", "migrate", "import":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "accounthealth: unknown command %q\n\n%s", mode, usage)
		return 2
	}
	cfg, err := loadConfig(mode, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "accounthealth %s: configuration: %v\n", mode, err)
		return 2
	}
	a := &app{cfg: cfg, out: stdout, errOut: stderr, log: newLogger(stderr, cfg.LogLevel, cfg.LogFormat), metrics: telemetry.New()}
	defer a.close()
	defer a.metrics.Close()
	switch mode {
	case "dev":
		err = a.dev(ctx)
	case "serve":
		err = a.serve(ctx)
	case "worker":
		err = a.worker(ctx)
	case "migrate":
		err = a.migrate(ctx)
	case "import":
		err = a.importFile(ctx, args[1])
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "accounthealth %s: %v\n", mode, err)
		return 1
	}
	return 0
}

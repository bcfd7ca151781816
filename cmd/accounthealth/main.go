// Command accounthealth is the whole system in one binary: `dev` runs everything
// on one machine; `serve`, `worker` and `migrate` are its production parts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/telemetry"
)

// command is one of the binary's commands, with its help.
type command struct {
	name, arg, summary, help string // arg: the one argument it takes, if any
}

var commands = []command{
	{"dev", "", "everything on one machine: API, web, worker, embedded Temporal and its UI",
		"SQLite (or AH_DATABASE_URL), the embedded Temporal server with its Web UI and an SMTP capture;\nstate is kept under AH_DATA_DIR (./data). Not in the image's build (-tags nodev)."},
	{"serve", "", "the HTTP API and web only",
		"Needs AH_DATABASE_URL, AH_TEMPORAL_ADDRESS, AH_SMTP_URL, AH_ADMIN_KEY; listens on AH_HTTP_ADDR.\nBehind a reverse proxy set AH_PUBLIC_URL and AH_TRUSTED_PROXIES."},
	{"worker", "", "the Temporal worker only",
		"Needs AH_DATABASE_URL, AH_TEMPORAL_ADDRESS, AH_SMTP_URL. On SIGTERM it lets running activities\nfinish for up to AH_WORKER_STOP_TIMEOUT (30s)."},
	{"migrate", "", "apply the database migrations and exit",
		"Needs AH_DATABASE_URL. Safe to run from several places at once (a Postgres advisory lock)."},
	{"temporal-setup", "", "register the workflows' search attributes in the Temporal namespace and exit",
		"Needs AH_TEMPORAL_ADDRESS (and the AH_TEMPORAL_TLS_* or AH_TEMPORAL_API_KEY settings it uses).\nAdds SellerId, CaseId, CaseState, CaseMetric, CaseKind; safe to re-run."},
	{"import", "FILE", "load a file of events through the same validation as POST /v1/events",
		"FILE is NDJSON (one event a line), or CSV if it ends in .csv (a header row of field names).\nIn chunks, with progress; AH_DATABASE_URL, or the dev database under AH_DATA_DIR; safe to re-run."},
	{"probe", "URL", "ask URL and exit 0 if it answers 200 (a container health check without curl)", ""},
	{"version", "", "print the build's version and exit", ""},
}

func usage() string {
	var b strings.Builder
	b.WriteString("accounthealth: seller account-health cases and appeals\n\nusage: accounthealth <command> [argument]\n\ncommands:\n")
	for _, c := range commands {
		name := strings.TrimSpace(c.name + " " + c.arg)
		fmt.Fprintf(&b, "  %-16s %s\n", name, c.summary)
	}
	b.WriteString("\n`accounthealth help <command>` (or `<command> --help`) says more about one.\nConfiguration is read from the environment (AH_*); see the README.\n")
	return b.String()
}

func (c command) usage() string {
	s := fmt.Sprintf("usage: accounthealth %s\n\n%s.\n", strings.TrimSpace(c.name+" "+c.arg), c.summary)
	if c.help != "" {
		s += c.help + "\n"
	}
	return s
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func main() {
	// Crash tests name points where the real binary kills itself (package
	// killpoint). Armed here, not in run, so a test running run in its own
	// process can never arm them against itself.
	if _, err := killpoint.Arm(os.Getenv("AH_KILLPOINTS"), killpoint.Kill); err != nil {
		fmt.Fprintf(os.Stderr, "accounthealth: AH_KILLPOINTS: %v\n", err)
		os.Exit(2)
	}
	for _, w := range unknownVariables(os.Environ()) {
		fmt.Fprintf(os.Stderr, "accounthealth: warning: %s\n", w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program, with its world passed in so tests can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	mode := args[0]
	if isHelp(mode) {
		if len(args) == 1 {
			fmt.Fprint(stdout, usage())
			return 0
		}
		c, ok := findCommand(args[1])
		if !ok {
			fmt.Fprintf(stderr, "accounthealth: unknown command %q\n\n%s", args[1], usage())
			return 2
		}
		fmt.Fprint(stdout, c.usage())
		return 0
	}
	cmd, ok := findCommand(mode)
	if !ok {
		fmt.Fprintf(stderr, "accounthealth: unknown command %q\n\n%s", mode, usage())
		return 2
	}
	if slices.ContainsFunc(args[1:], func(a string) bool { return a == "-h" || a == "--help" }) {
		fmt.Fprint(stdout, cmd.usage())
		return 0
	}
	if want := map[bool]int{true: 2, false: 1}[cmd.arg != ""]; len(args) != want {
		fmt.Fprint(stderr, cmd.usage())
		return 2
	}
	switch mode {
	case "version":
		fmt.Fprintln(stdout, version())
		return 0
	case "probe":
		if err := probe(ctx, args[1]); err != nil {
			fmt.Fprintf(stderr, "accounthealth probe: %v\n", err)
			return 1
		}
		return 0
	}
	cfg, err := loadConfig(mode, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "accounthealth %s: configuration: %v\n", mode, err)
		return 2
	}
	a := &app{cfg: cfg, mode: mode, out: stdout, errOut: stderr, log: newLogger(stderr), metrics: telemetry.New()}
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
	case "temporal-setup":
		err = a.temporalSetup(ctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "accounthealth %s: %v\n", mode, err)
		return 1
	}
	return 0
}

// version names the build: the module's version (a tag when installed with go
// install) and the commit it was built from, when the build recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "accounthealth (no build information)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	v := "accounthealth " + bi.Main.Version
	if rev := settings["vcs.revision"]; rev != "" {
		v += " " + rev
		if settings["vcs.modified"] == "true" {
			v += " (modified)"
		}
		if t := settings["vcs.time"]; t != "" {
			v += " " + t
		}
	} else {
		v += " (commit not recorded: built with -buildvcs=false or outside git)"
	}
	if tags := settings["-tags"]; tags != "" {
		v += " tags=" + tags
	}
	return v + " " + bi.GoVersion
}

// probe asks url and fails unless it answers 200 within 5 seconds.
func probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// Package devtemporal runs an embedded, single-process Temporal server backed by
// a SQLite file, plus the Temporal Web UI, for the `accounthealth dev` command.
package devtemporal

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/primitives/timestamp"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"

	"github.com/accounthealth/accounthealth/internal/loopback"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

const (
	host            = "127.0.0.1"
	clusterName     = "active"
	uiPortOffset    = 1000
	retentionDays   = 7
	readyTimeout    = 60 * time.Second
	uiReadyTimeout  = 10 * time.Second
	uiStopTimeout   = 10 * time.Second
	dbFileName      = "temporal.db"
	readyPollPeriod = 200 * time.Millisecond
)

// Options configures Start.
type Options struct {
	DataDir   string       // the DB file is DataDir/temporal.db; created if missing
	Port      int          // frontend gRPC port on 127.0.0.1; UI listens on Port+1000
	Namespace string       // created (idempotently) at start
	Logger    *slog.Logger // receives the server's WARN+ logs; nil means slog.Default()
}

// Server is a running dev Temporal server and Web UI.
type Server struct {
	frontendAddr string
	uiAddr       string

	temporal temporal.Server
	logGate  *logGate
	ui       *uiserver.Server
	uiDone   chan struct{}

	stopOnce sync.Once
	stopErr  error
}

// FrontendAddress is the gRPC host:port clients dial.
func (s *Server) FrontendAddress() string { return s.frontendAddr }

// UIAddress is the Web UI base URL.
func (s *Server) UIAddress() string { return s.uiAddr }

// Start launches the server and the UI and returns once the frontend serves
// the namespace. State lives in DataDir/temporal.db and survives restarts.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.DataDir == "" {
		return nil, errors.New("devtemporal: DataDir is required")
	}
	if o.Port <= 0 || o.Port+uiPortOffset > 65535 {
		return nil, fmt.Errorf("devtemporal: invalid port %d", o.Port)
	}
	if o.Namespace == "" {
		return nil, errors.New("devtemporal: Namespace is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}

	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	// The SQLite plugin splices the path into a "file:" URI unescaped.
	if strings.ContainsAny(dataDir, "?#%") {
		return nil, fmt.Errorf("devtemporal: DataDir %q must not contain '?', '#' or '%%'", dataDir)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("devtemporal: create data dir: %w", err)
	}
	dbPath := filepath.Join(dataDir, dbFileName)

	// Temporal and the UI server exit the process (logger.Fatal) when a port is
	// taken, so fail early with an error instead.
	uiPort := o.Port + uiPortOffset
	for _, p := range []int{o.Port, uiPort} {
		if err := loopback.Check(p); err != nil {
			return nil, fmt.Errorf("devtemporal: %w", err)
		}
	}
	// history/matching/worker are only reached through the static host map
	// below (no ringpop, nothing persisted), so any free port will do; picked
	// outside the ephemeral range so no client connection takes one first.
	internal, err := loopback.Ports(3)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}

	if err := ensureSchema(dbPath); err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}

	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		// File-backed, created if missing (as the lite server does; "memory" would be ephemeral).
		// WAL with synchronous=NORMAL: a commit appends to the log without an
		// fsync (SQLite's default journal syncs two files per commit, which held
		// the server to a few workflows a second on this machine's disk). A
		// killed process loses nothing committed; only a power cut can lose the
		// last commits, which a development server may.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"},
	}
	if err := createNamespace(sqlCfg, o.Namespace); err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}

	frontendAddr := net.JoinHostPort(host, strconv.Itoa(o.Port))
	ports := map[primitives.ServiceName]int{
		primitives.FrontendService: o.Port,
		primitives.HistoryService:  internal[0],
		primitives.MatchingService: internal[1],
		primitives.WorkerService:   internal[2],
	}
	cfg := serverConfig(sqlCfg, frontendAddr, ports)
	hosts := make(map[primitives.ServiceName]static.Hosts, len(ports))
	for svc, p := range ports {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(p)))
	}

	logger := newLogger(o.Logger.With("component", "temporal"))
	srv, err := temporal.NewServer(
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithConfig(cfg),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Dev convenience: newly added search attributes are usable immediately.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: create server: %w", err)
	}
	if err := srv.Start(); err != nil {
		_ = srv.Stop()
		return nil, fmt.Errorf("devtemporal: start server: %w", err)
	}
	s := &Server{
		frontendAddr: frontendAddr,
		uiAddr:       "http://" + net.JoinHostPort(host, strconv.Itoa(uiPort)),
		temporal:     srv,
		logGate:      logger.gate,
	}
	if err := waitFrontend(ctx, frontendAddr, o.Namespace); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	if err := registerSearchAttributes(ctx, frontendAddr, o.Namespace); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	if err := s.startUI(ctx, frontendAddr, o.Namespace, uiPort); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	return s, nil
}

// Stop stops the UI, then the Temporal services. Safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.ui != nil {
			s.ui.Stop()
			select {
			case <-s.uiDone:
			case <-time.After(uiStopTimeout):
			}
		}
		s.logGate.set(levelOff)
		s.stopErr = s.temporal.Stop()
	})
	return s.stopErr
}

func serverConfig(sqlCfg *config.SQL, frontendAddr string, ports map[primitives.ServiceName]int) *config.Config {
	services := make(map[string]config.Service, len(ports))
	for svc, p := range ports {
		services[string(svc)] = config.Service{RPC: config.RPC{GRPCPort: p, BindOnIP: host}}
	}
	return &config.Config{
		// Global.Metrics nil: no Prometheus listener; PProf port 0: disabled;
		// Membership unused because static hosts replace ringpop.
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontendAddr},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
		// The worker service dials the frontend through this.
		PublicClient: config.PublicClient{HostPort: frontendAddr},
	}
}

// ensureSchema creates the Temporal tables when the file is new or has no
// schema. It runs in one transaction so a crash mid-setup cannot leave a
// half-built schema that a later start would mistake for a complete one.
// It uses its own connection (the modernc "sqlite" driver, registered by the
// Temporal plugin) because the plugin's pooled connections are never closed.
func ensureSchema(dbPath string) error {
	db, err := stdsql.Open("sqlite", "file:"+dbPath+"?mode=rwc")
	if err != nil {
		return fmt.Errorf("open %s: %w", dbPath, err)
	}
	defer func() { _ = db.Close() }()

	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'namespaces'`).Scan(&n); err != nil {
		return fmt.Errorf("inspect %s: %w", dbPath, err)
	}
	if n > 0 {
		return nil
	}
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("setup schema: %w", err)
	}
	if err := sqliteschema.SetupSchemaOnDB(txExec{tx: tx}); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("setup schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("setup schema: %w", err)
	}
	return nil
}

// txExec satisfies sqlplugin.AdminDB for SetupSchemaOnDB, which only calls Exec.
type txExec struct {
	sqlplugin.AdminDB
	tx *stdsql.Tx
}

func (t txExec) Exec(stmt string, args ...any) error {
	_, err := t.tx.Exec(stmt, args...)
	return err
}

// createNamespace registers the namespace directly in the DB (a no-op if it
// exists), so it is usable as soon as the frontend is up.
func createNamespace(sqlCfg *config.SQL, name string) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, name, false, nil)
	if err != nil {
		return fmt.Errorf("namespace config: %w", err)
	}
	ns.Detail.Config.Retention = timestamp.DurationFromDays(retentionDays)
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return fmt.Errorf("create namespace %q: %w", name, err)
	}
	return nil
}

// waitFrontend polls DescribeNamespace: a successful answer means the frontend
// listens and its namespace registry has loaded our namespace.
func waitFrontend(ctx context.Context, addr, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial frontend: %w", err)
	}
	defer func() { _ = conn.Close() }()
	client := workflowservice.NewWorkflowServiceClient(conn)
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = client.DescribeNamespace(callCtx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		callCancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("frontend %s not ready: %w (last error: %v)", addr, ctx.Err(), err)
		case <-time.After(readyPollPeriod):
		}
	}
}

// registerSearchAttributes adds the search attributes the case workflows set
// (a real cluster gets them from `accounthealth temporal-setup`).
func registerSearchAttributes(ctx context.Context, addr, namespace string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial frontend: %w", err)
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	_, err = flow.EnsureSearchAttributes(ctx, operatorservice.NewOperatorServiceClient(conn), namespace)
	return err
}

func (s *Server) startUI(ctx context.Context, frontendAddr, namespace string, port int) error {
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: frontendAddr,
		Host:                host,
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		HideLogs:            true,
		// Plain http on localhost: a Secure CSRF cookie would not be sent back.
		CORS: uiconfig.CORS{CookieInsecure: true},
	}
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(cfg))
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		_ = s.ui.Start() // returns after Stop; bind errors are fatal inside (port pre-checked)
	}()

	// Wait for the listener so a following Stop cannot race the UI's Start.
	ctx, cancel := context.WithTimeout(ctx, uiReadyTimeout)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("UI %s not ready: %w", addr, ctx.Err())
		case <-s.uiDone:
			return fmt.Errorf("UI server on %s exited", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

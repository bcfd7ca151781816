package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/activities/webhook"
	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

const adminKey = "bench-admin-key-0123456789"

// env is the real system, in this process: a fresh Postgres database, a Temporal
// server, an SMTP capture, a worker and the HTTP API on loopback.
type env struct {
	dbURL    string
	store    *store.Store
	pg       *pgx.Conn
	temporal *temporaltest.TestServer
	client   client.Client
	smtp     *capture.Server
	api      *httptest.Server
	policy   health.Policy
	sink     *switchSink
	closers  []func()
}

// switchSink lets a benchmark turn case opening on (the storm, the cases) or off
// (the sweep).
type switchSink struct {
	on   bool
	next activities.CaseOpener
}

var _ activities.TellQueuer = (*switchSink)(nil)

func (s *switchSink) Queue(ctx context.Context, id string, at time.Time, r []store.SellerMetrics) error {
	if !s.on {
		return nil
	}
	return s.next.Queue(ctx, id, at, r)
}

func (s *switchSink) TellQueued(ctx context.Context, id string) error {
	if !s.on {
		return nil
	}
	return s.next.TellQueued(ctx, id)
}

func (s *switchSink) Observe(ctx context.Context, id string, at time.Time, r []store.SellerMetrics) error {
	if !s.on {
		return nil
	}
	return s.next.Observe(ctx, id, at, r)
}

func newEnv(ctx context.Context, pgAdmin string) (*env, error) {
	e := &env{policy: health.DefaultPolicy()}
	e.policy.Evaluation.SweepInterval = 0
	u, drop, err := storetest.CreateDatabase(ctx, pgAdmin)
	if err != nil {
		return nil, err
	}
	e.dbURL = u
	e.closers = append(e.closers, drop)
	if e.store, err = store.Open(ctx, u); err != nil {
		return e, err
	}
	e.closers = append(e.closers, func() { _ = e.store.Close() })
	if _, err := e.store.Migrate(ctx); err != nil {
		return e, err
	}
	if e.pg, err = pgx.Connect(ctx, u); err != nil {
		return e, err
	}
	e.closers = append(e.closers, func() { _ = e.pg.Close(context.Background()) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.temporal = temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{Logger: quietSDK{}}))
	e.closers = append(e.closers, e.temporal.Stop)
	e.client = e.temporal.GetDefaultClient()
	if _, err := flow.EnsureSearchAttributes(ctx, e.client.OperatorService(), e.temporal.GetDefaultNamespace()); err != nil {
		return e, err
	}
	if e.smtp, err = capture.Start("127.0.0.1:0", ""); err != nil {
		return e, err
	}
	e.closers = append(e.closers, func() { _ = e.smtp.Close() })
	sender, err := mail.NewSender(mail.Config{URL: e.smtp.URL(), From: "bench@localhost"})
	if err != nil {
		return e, err
	}
	e.sink = &switchSink{next: activities.CaseOpener{Flow: flow.NewClient(e.client), Store: e.store, Policy: e.policy}}
	// As the binary's worker: the cases and evaluations on one queue, the
	// evaluations' batches of mail on theirs, 8 at a time (serve's default).
	for _, q := range []struct {
		name  string
		slots int
	}{{flow.TaskQueue, 0}, {flow.BulkMailTaskQueue, 8}} {
		w := worker.New(e.client, q.name, worker.Options{MaxConcurrentActivityExecutionSize: q.slots})
		workflows.Register(w)
		w.RegisterWorkflow(emptyWorkflow)
		standing := &activities.Standing{Store: e.store, Policy: e.policy, PublicURL: "http://bench"}
		w.RegisterActivity(&activities.Evaluation{Store: e.store, Policy: e.policy, Sink: e.sink, Standing: standing})
		w.RegisterActivity(standing)
		w.RegisterActivity(&activities.Cases{Store: e.store, Policy: e.policy, Mailer: sender, PublicURL: "http://bench"})
		w.RegisterActivity(&activities.Webhooks{Store: e.store, Policy: e.policy.Webhooks, Log: quiet,
			Sender: webhook.NewSender(webhook.Any, e.policy.Webhooks.Timeout)})
		if err := w.Start(); err != nil {
			return e, err
		}
		e.closers = append(e.closers, w.Stop)
	}
	srv := api.New(api.Config{Store: e.store, Workflows: flow.NewClient(e.client), Policy: e.policy,
		AdminKeyHash: api.HashKey(adminKey), Mailer: sender, PublicURL: "http://bench", Logger: quiet,
		InFlightPerClient: 1000,         // the benchmark's 64 clients share one address
		WebhookReach:      webhook.Any}) // the receiver is on loopback
	e.api = httptest.NewServer(srv.Handler())
	e.closers = append(e.closers, e.api.Close)
	return e, nil
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// loadSellers and loadOrders bulk-load a dataset with COPY: the evaluation and
// storm benchmarks measure the sweep, not the loading.
func (e *env) loadSellers(ctx context.Context, ids []string) error {
	now := time.Now().UTC()
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{id, "Seller " + id, id + "@example.com", now.UnixMilli()}
	}
	_, err := e.pg.CopyFrom(ctx, pgx.Identifier{"sellers"}, []string{"id", "name", "email", "created_at"}, pgx.CopyFromRows(rows))
	return err
}

// load bulk-loads a dataset's sellers and orders.
func (e *env) load(ctx context.Context, d dataset) error {
	if err := e.loadSellers(ctx, d.Sellers); err != nil {
		return fmt.Errorf("copy sellers: %w", err)
	}
	return e.loadOrders(ctx, d.Orders)
}

func (e *env) loadOrders(ctx context.Context, orders []order) error {
	src := pgx.CopyFromSlice(len(orders), func(i int) ([]any, error) { return orderRow(orders[i]), nil })
	if _, err := e.pg.CopyFrom(ctx, pgx.Identifier{"orders"}, orderColumns, src); err != nil {
		return fmt.Errorf("copy orders: %w", err)
	}
	_, err := e.pg.Exec(ctx, "ANALYZE orders")
	return err
}

// orderColumns are the columns orderRow fills, in its order.
var orderColumns = []string{"order_id", "seller_id", "placed_at", "ship_by", "deliver_by",
	"shipped_at", "tracking_number", "first_scan_at", "delivered_at", "feedback_rating", "feedback_at", "chargeback_at"}

// orderRow is an order as the row the ingest would have made of its events.
func orderRow(o order) []any {
	ms := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.UnixMilli()
	}
	var fb, fa, cb any
	if o.Feedback > 0 {
		fb, fa = o.Feedback, o.Placed.Add(48*time.Hour).UnixMilli()
	}
	if o.Chargeback {
		cb = o.Placed.Add(72 * time.Hour).UnixMilli()
	}
	return []any{o.ID, o.Seller, o.Placed.UnixMilli(), o.ShipBy.UnixMilli(), o.DeliverBy.UnixMilli(), ms(o.Shipped), o.Tracking,
		ms(o.Scanned), ms(o.Deliv), fb, fa, cb}
}

// quietSDK drops the SDK's logs: a benchmark prints only its figures.
type quietSDK struct{}

func (quietSDK) Debug(string, ...any) {}
func (quietSDK) Info(string, ...any)  {}
func (quietSDK) Warn(string, ...any)  {}
func (quietSDK) Error(string, ...any) {}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/activities/webhook"
	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/telemetry"
	"github.com/accounthealth/accounthealth/workflows"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// app holds what a command started, so it can be stopped in reverse order.
type app struct {
	cfg     config
	mode    string // the command: dev, serve, worker, ...
	out     io.Writer
	errOut  io.Writer // progress goes here, results to out
	log     *slog.Logger
	metrics *telemetry.Metrics // this process's, served at /metrics
	closers []func()
}

// newLogger logs at level and above, as text (key=value, readable in a
// terminal) or JSON (one object a line, for a log pipeline); a line logged with
// a request's context names its request id.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(telemetry.ContextHandler{Handler: h})
}

// evaluationFinished counts a finished evaluation in the metrics.
func (a *app) evaluationFinished(e store.Evaluation) {
	var took time.Duration
	if e.FinishedAt != nil {
		took = e.FinishedAt.Sub(e.StartedAt)
	}
	a.metrics.EvaluationFinished(e.Trigger, e.Status, took, e.SellersEvaluated, e.Breaches)
}

func (a *app) onClose(f func()) { a.closers = append(a.closers, f) }

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func (a *app) openStore(ctx context.Context, url string) (*store.Store, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	a.onClose(func() { _ = st.Close() })
	a.metrics.WatchDatabase(st, a.log)
	applied, err := st.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range applied {
		a.log.Info("migration applied", "file", m)
	}
	return st, nil
}

func (a *app) dialTemporal(ctx context.Context, addr string) (client.Client, error) {
	// The SDK logs every poll at INFO; warnings and above are what a person needs.
	logger := slog.New(a.log.Handler().WithGroup("temporal"))
	opts := a.cfg.temporalOptions(addr)
	opts.Logger = tlog.NewStructuredLogger(slog.New(levelFilter{logger.Handler(), slog.LevelWarn}))
	opts.MetricsHandler = a.metrics.TemporalHandler(a.log)
	// A request's id goes on to the workflows and activities it starts.
	opts.ContextPropagators = append(opts.ContextPropagators, telemetry.RequestIDPropagator{})
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", addr, err)
	}
	a.onClose(c.Close)
	return c, nil
}

// startWorker starts the worker and answers the sender it delivers mail with.
func (a *app) startWorker(c client.Client, st *store.Store, smtpURL string) (*mail.Sender, error) {
	// dev adds the search attributes to whichever Temporal it uses.
	if err := a.checkSearchAttributes(c, a.mode == "dev"); err != nil {
		return nil, err
	}
	sender, err := mail.NewSender(mail.Config{URL: smtpURL, From: a.cfg.MailFrom})
	if err != nil {
		return nil, fmt.Errorf("mail (AH_SMTP_URL): %w", err)
	}
	// Process-wide, and read when the first worker starts.
	worker.SetStickyWorkflowCacheSize(a.cfg.WorkflowCache)
	// One worker per task queue, each registering everything: a backlog of case
	// tasks after a big sweep never delays the next evaluation, a workflow
	// started on any queue before an upgrade still finds its code, and the
	// bulk mail's worker runs only a few batches at a time.
	for _, q := range a.workerQueues() {
		w := a.newWorker(c, q.name, q.slots, st, sender)
		if err := w.Start(); err != nil {
			return nil, fmt.Errorf("start worker of %s: %w", q.name, err)
		}
		a.onClose(w.Stop)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Each endpoint's workflow runs already, as a rule; this starts one whose
	// registration stopped between the row and the start.
	hooks, _, err := st.Webhooks(ctx, store.Page{})
	if err != nil {
		return nil, err
	}
	for _, h := range hooks {
		if err := flow.NewClient(c).StartWebhook(ctx, h.ID); err != nil {
			return nil, err
		}
	}
	if err := flow.NewClient(c).EnsureSweepSchedule(ctx, a.cfg.Policy.Evaluation.SweepInterval); err != nil {
		return nil, err
	}
	if err := flow.NewClient(c).EnsureRetentionSchedule(ctx, a.cfg.Policy.Retention.Interval); err != nil {
		return nil, err
	}
	return sender, flow.NewClient(c).EnsureTierSchedule(ctx)
}

// workerQueues are the task queues the worker polls, with how many activities
// each runs at once (0: the SDK's default): bulk mail AH_BULK_MAIL_BATCHES.
func (a *app) workerQueues() []workerQueue {
	return []workerQueue{{flow.TaskQueue, 0}, {flow.EvaluationTaskQueue, 0}, {flow.BulkMailTaskQueue, a.cfg.BulkMailBatches}}
}

type workerQueue struct {
	name  string
	slots int
}

// newWorker makes a worker of queue with every workflow and activity registered,
// running at most slots activities at once (0: the SDK's default).
func (a *app) newWorker(c client.Client, queue string, slots int, st *store.Store, sender *mail.Sender) worker.Worker {
	// On SIGTERM the worker stops polling and lets running activities finish
	// (a mail being sent, a row being written) for up to WorkerStopTimeout.
	w := worker.New(c, queue, worker.Options{WorkerStopTimeout: a.cfg.WorkerStopTimeout, MaxConcurrentActivityExecutionSize: slots,
		Interceptors: []interceptor.WorkerInterceptor{&telemetry.LogInterceptor{}}})
	workflows.Register(w)
	standing := &activities.Standing{Store: st, Policy: a.cfg.Policy, PublicURL: a.cfg.PublicURL}
	w.RegisterActivity(&activities.Evaluation{Store: st, Policy: a.cfg.Policy, Log: a.log, Standing: standing,
		Sink: activities.CaseOpener{Flow: flow.NewClient(c), Store: st, Policy: a.cfg.Policy}, Finished: a.evaluationFinished})
	w.RegisterActivity(standing)
	w.RegisterActivity(&activities.Retention{Store: st, Policy: a.cfg.Policy.Retention})
	w.RegisterActivity(&activities.Cases{Store: st, Policy: a.cfg.Policy, Mailer: sender, PublicURL: a.cfg.PublicURL,
		MailFailed: a.metrics.MailGivenUp})
	w.RegisterActivity(&activities.Webhooks{Store: st, Policy: a.cfg.Policy.Webhooks, Log: a.log,
		Sender: webhook.NewSender(a.cfg.WebhookReach, a.cfg.Policy.Webhooks.Timeout), Observe: a.metrics.WebhookAttempt})
	return w
}

// startHTTP listens (so the address is taken before anything is printed) and serves.
func (a *app) startHTTP(srv *api.Server) (net.Addr, <-chan error, error) {
	return a.listen(a.cfg.HTTPAddr, "AH_HTTP_ADDR", srv.Handler())
}

// listen takes addr (named by the variable env in errors) and serves h on it.
func (a *app) listen(addr, env string, h http.Handler) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s (%s): %w", addr, env, err)
	}
	// The API gives each request's body its own deadline (longer for a batch of
	// events); ReadTimeout only bounds what that leaves out.
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: api.DefaultEventsBodyTimeout + 10*time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	a.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	return ln.Addr(), done, nil
}

func (a *app) migrate(ctx context.Context) error {
	_, err := a.openStore(ctx, a.cfg.DatabaseURL)
	if err == nil {
		fmt.Fprintln(a.out, "migrations are up to date")
	}
	return err
}

// connect opens the external database and Temporal that serve and worker use.
func (a *app) connect(ctx context.Context) (*store.Store, client.Client, error) {
	st, err := a.openStore(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.dialTemporal(ctx, a.cfg.TemporalAddress)
	return st, c, err
}

func (a *app) worker(ctx context.Context) error {
	st, c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	sender, err := a.startWorker(c, st, a.cfg.SMTPURL)
	if err != nil {
		return err
	}
	ops := api.OpsHandler(api.OpsConfig{Database: st.Ping, Temporal: flow.NewClient(c).Ping, SMTPProbe: sender.Probe,
		Metrics: a.metrics.Handler(), Logger: a.log})
	addr, done, err := a.listen(a.cfg.WorkerAddr, "AH_WORKER_ADDR", ops)
	if err != nil {
		return err
	}
	var queues []string
	for _, q := range a.workerQueues() {
		queues = append(queues, q.name)
	}
	a.log.Info("worker started", "task_queues", queues, "temporal", a.cfg.TemporalAddress, "probes", "http://"+addr.String())
	return wait(ctx, done)
}

func (a *app) serve(ctx context.Context) error {
	st, c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	srv, err := a.apiServer(st, c, a.cfg.SMTPURL, nil)
	if err != nil {
		return err
	}
	addr, done, err := a.startHTTP(srv)
	if err != nil {
		return err
	}
	a.log.Info("serving", "url", "http://"+addr.String())
	return wait(ctx, done)
}

func (a *app) apiServer(st *store.Store, c client.Client, smtpURL string, mailbox *capture.Server) (*api.Server, error) {
	sender, err := mail.NewSender(mail.Config{URL: smtpURL, From: a.cfg.MailFrom})
	if err != nil {
		return nil, fmt.Errorf("mail (AH_SMTP_URL): %w", err)
	}
	return api.New(api.Config{
		Store: st, Workflows: flow.NewClient(c), Policy: a.cfg.Policy,
		AdminKeyHash: api.HashKey(a.cfg.AdminKey), Mailbox: mailbox, Mailer: sender, PublicURL: a.cfg.PublicURL, Logger: a.log,
		TrustedProxies: a.cfg.TrustedProxies, SMTPProbe: sender.Probe, Metrics: a.metrics, WebhookReach: a.cfg.WebhookReach,
		InFlightPerClient: a.cfg.InFlightPerClient,
	}), nil
}

func wait(ctx context.Context, served <-chan error) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("http server: %w", err)
	}
}

// levelFilter drops records below a level.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}

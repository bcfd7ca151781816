// Package api serves the HTTP JSON API and the web pages with Echo. A handler
// binds its input, calls a use case of the application layer (package app and
// its packages), and presents the answer; the rules live in the use cases, the
// health package and the workflows.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/activities/webhook"
	"github.com/accounthealth/accounthealth/app/cases"
	"github.com/accounthealth/accounthealth/app/disputes"
	"github.com/accounthealth/accounthealth/app/ingest"
	"github.com/accounthealth/accounthealth/app/mailbox"
	"github.com/accounthealth/accounthealth/app/sellers"
	"github.com/accounthealth/accounthealth/app/signin"
	"github.com/accounthealth/accounthealth/app/standing"
	"github.com/accounthealth/accounthealth/app/webhooks"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/telemetry"
)

// Workflows is what the server's use cases ask of Temporal (flow.Client).
type Workflows interface {
	cases.Flow
	sellers.Evaluations
	standing.Flow
	signin.Deliveries
	webhooks.Flow
	Ping(ctx context.Context) error
}

// Config is everything the server needs, read once by the caller.
type Config struct {
	Store        *store.Store
	Workflows    Workflows
	Policy       health.Policy
	AdminKeyHash string          // HashKey of the admin key
	Mailbox      *capture.Server // dev only: the SMTP capture shown at /dev/mail
	Mailer       Mailer          // sends sign-in links
	PublicURL    string          // the base of links in mail, e.g. https://health.example.com
	Logger       *slog.Logger
	// Metrics, when set, counts requests and is served at /metrics (admin only).
	Metrics *telemetry.Metrics
	// SMTPProbe, when set, checks that the mail relay answers, for /healthz.
	SMTPProbe func(context.Context) error
	// WebhookReach is which addresses an endpoint may have (public only, unless
	// dev or AH_WEBHOOK_ALLOW_PRIVATE); WebhookResolver resolves their hosts
	// (nil: the system's resolver).
	WebhookReach    webhook.Reach
	WebhookResolver webhook.Resolver

	// InFlightPerClient is how many requests one client (IP address) may have
	// in flight at once; more get 429. 0 means DefaultInFlightPerClient.
	InFlightPerClient int
	// TrustedProxies are the networks of the reverse proxies in front of the
	// server: their X-Forwarded-For names the client. Empty, the peer address is
	// the client and X-Forwarded-For is ignored (a client could forge it).
	TrustedProxies []*net.IPNet
	// BodyTimeout and EventsBodyTimeout bound how long a request's body may take
	// to arrive; 0 means the defaults below.
	BodyTimeout, EventsBodyTimeout time.Duration
}

// Body limits: a batch of events may be large; everything else is small.
const (
	MaxEventsBody   = 64 << 20
	MaxEventsInBody = 100_000
	maxBody         = 1 << 20
)

// Defaults of what one client may hold. A body must arrive at a rate a slow
// client could still keep: 1 MiB in 30 s is 35 KiB/s; 64 MiB of events in 3
// minutes is 364 KiB/s (about 3 Mbit/s).
const (
	DefaultInFlightPerClient = 32
	DefaultBodyTimeout       = 30 * time.Second
	DefaultEventsBodyTimeout = 3 * time.Minute
)

// Server is the HTTP API.
type Server struct {
	store             *store.Store
	workflows         Workflows
	cases             *cases.Service
	ingest            *ingest.Service
	sellers           *sellers.Service
	signin            *signin.Service
	mails             *mailbox.Service
	standing          *standing.Service
	webhooks          *webhooks.Service
	disputes          *disputes.Service
	policy            health.Policy
	adminKeyHash      string
	mailbox           *capture.Server
	mailer            Mailer
	publicURL         string
	log               *slog.Logger
	ready             *readiness
	metrics           *telemetry.Metrics
	echo              *echo.Echo
	routes            map[string]bool // "METHOD path" of every registered route
	inFlight          *inFlight
	bodyTimeout       time.Duration
	eventsBodyTimeout time.Duration
}

// Route is one documented route.
type Route struct{ Method, Path string }

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WebhookResolver == nil {
		cfg.WebhookResolver = net.DefaultResolver
	}
	if cfg.InFlightPerClient == 0 {
		cfg.InFlightPerClient = DefaultInFlightPerClient
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.EventsBodyTimeout == 0 {
		cfg.EventsBodyTimeout = DefaultEventsBodyTimeout
	}
	s := &Server{store: cfg.Store, workflows: cfg.Workflows, policy: cfg.Policy, adminKeyHash: cfg.AdminKeyHash,
		mailbox: cfg.Mailbox, mailer: cfg.Mailer, publicURL: strings.TrimSuffix(cfg.PublicURL, "/"), log: cfg.Logger,
		cases: &cases.Service{Store: cfg.Store, Reports: cfg.Store, Messages: cfg.Store, Attachments: cfg.Store, Flow: cfg.Workflows, Mailer: cfg.Mailer, Deliveries: cfg.Workflows,
			PublicURL: strings.TrimSuffix(cfg.PublicURL, "/"), Policy: cfg.Policy.Cases},
		ingest:      &ingest.Service{Store: cfg.Store},
		sellers:     &sellers.Service{Store: cfg.Store, Roster: cfg.Store, Evaluations: cfg.Workflows, Policy: cfg.Policy},
		signin:      &signin.Service{Store: cfg.Store, Mailer: cfg.Mailer, Deliveries: cfg.Workflows, PublicURL: strings.TrimSuffix(cfg.PublicURL, "/"), Log: cfg.Logger},
		metrics:     cfg.Metrics,
		mails:       &mailbox.Service{Store: cfg.Store, Deliveries: cfg.Workflows},
		standing:    &standing.Service{Store: cfg.Store, Flow: cfg.Workflows, Policy: cfg.Policy},
		webhooks:    &webhooks.Service{Store: cfg.Store, Flow: cfg.Workflows, Reach: cfg.WebhookReach, Resolver: cfg.WebhookResolver},
		disputes:    &disputes.Service{Store: cfg.Store, Mailer: cfg.Mailer, Deliveries: cfg.Workflows, PublicURL: strings.TrimSuffix(cfg.PublicURL, "/")},
		inFlight:    &inFlight{max: cfg.InFlightPerClient, n: map[string]int{}},
		bodyTimeout: cfg.BodyTimeout, eventsBodyTimeout: cfg.EventsBodyTimeout}
	s.ready = &readiness{database: cfg.Store.Ping, temporal: cfg.Workflows.Ping, smtp: &smtpHealth{probe: cfg.SMTPProbe}, log: cfg.Logger}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientAddress(cfg.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(cfg.Logger, s.errorPage)
	e.Use(s.observe)
	e.Use(middleware.Recover())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
		ReferrerPolicy: "no-referrer", ContentSecurityPolicy: "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
	}))
	e.Use(s.inFlight.limit, s.allowedMethods, s.limitBody, checkInput)

	e.GET("/livez", livez)
	e.GET("/healthz", s.healthz)
	e.GET("/openapi.yaml", s.openAPI)

	v1 := e.Group("/v1", s.authenticate)
	admin := allow(store.RoleAdmin)
	v1.POST("/sellers", s.createSeller, admin)
	v1.POST("/reviewers", s.createReviewer, admin)
	v1.POST("/events", s.postEvents, admin)
	v1.POST("/evaluations", s.startEvaluation, admin)
	v1.GET("/evaluations/:id", s.getEvaluation, admin)
	anyone := allow(store.RoleAdmin, store.RoleReviewer, store.RoleSeller)
	staff := allow(store.RoleAdmin, store.RoleReviewer)
	v1.GET("/sellers", s.listSellers, staff)
	v1.GET("/sellers/:id/health", s.sellerHealth, anyone)
	v1.GET("/sellers/:id/tier", s.sellerTier, anyone)
	v1.GET("/sellers/:id/programs", s.sellerPrograms, anyone)
	v1.POST("/sellers/:id/programs/:program/accept", s.answerProgram(true), allow(store.RoleSeller))
	v1.POST("/sellers/:id/programs/:program/decline", s.answerProgram(false), allow(store.RoleSeller))
	v1.POST("/tier-evaluations", s.startTierEvaluation, admin)
	v1.GET("/tier-evaluations/:id", s.getTierEvaluation, admin)
	v1.GET("/cases", s.listCases, anyone)
	v1.POST("/cases", s.openPolicyCase, allow(store.RoleReviewer))
	v1.GET("/cases/:id", s.getCase, anyone)
	v1.POST("/cases/:id/appeals", s.submitAppeal, allow(store.RoleSeller))
	v1.POST("/cases/:id/withdrawal", s.withdrawCase, allow(store.RoleReviewer))
	v1.POST("/cases/:id/confirmation", s.confirmCase, allow(store.RoleReviewer))
	v1.POST("/cases/:id/messages", s.postMessage, allow(store.RoleSeller, store.RoleReviewer))
	v1.POST("/cases/:id/claim", s.claimCase, allow(store.RoleReviewer))
	v1.POST("/cases/:id/attachments", s.uploadAttachment, allow(store.RoleSeller, store.RoleReviewer))
	v1.GET("/attachments/:id", s.downloadAttachment, anyone)
	v1.POST("/cases/:id/assignment", s.reassign("case"), admin)
	v1.POST("/appeals/:id/claim", s.claimAppealAPI, allow(store.RoleReviewer))
	v1.POST("/appeals/:id/assignment", s.reassign("appeal"), admin)
	v1.POST("/orders/:order_id/disputes", s.openDispute, allow(store.RoleSeller))
	v1.GET("/disputes", s.listDisputes, staff)
	v1.POST("/disputes/:id/decision", s.decideDispute, allow(store.RoleReviewer))
	v1.GET("/appeals", s.listAppeals, staff)
	v1.POST("/appeals/:id/decision", s.decideAppeal, allow(store.RoleReviewer))
	v1.GET("/mail", s.listMail, staff)
	v1.POST("/mail/:id/resend", s.resendMail, staff)
	v1.POST("/reports", s.createReport, admin)
	v1.GET("/reports", s.listReports, staff)
	v1.POST("/reports/:id/decision", s.decideReport, allow(store.RoleReviewer))
	v1.POST("/webhooks", s.createWebhook, admin)
	v1.GET("/webhooks", s.listWebhooks, admin)
	v1.DELETE("/webhooks/:id", s.deleteWebhook, admin)
	v1.GET("/webhooks/:id/deliveries", s.listDeliveries, admin)
	v1.POST("/webhooks/:id/deliveries/:delivery/retry", s.retryDelivery, admin)
	if s.mailbox != nil {
		e.GET("/dev/mail", s.devMail, s.authenticate, admin)
	}
	if s.metrics != nil {
		// The API listener is public: its metrics (routes, volumes) are the
		// admin's; the worker serves its own on its internal port, unauthenticated.
		e.GET("/metrics", echo.WrapHandler(s.metrics.Handler()), s.authenticate, admin)
	}
	s.registerWeb(e)
	s.echo = e
	s.routes = map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method != echo.RouteNotFound {
			s.routes[r.Method+" "+r.Path] = true
		}
	}
	return s
}

// Handler is the HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Routes lists the registered JSON API routes, for the OpenAPI consistency test.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "/*") || !isAPI(r.Path) {
			continue // the pages are not part of the JSON API's reference
		}
		out = append(out, Route{r.Method, r.Path})
	}
	return out
}

// FormRoutes lists the web forms (POST routes of the pages), so tests can send
// every form what they send every endpoint.
func (s *Server) FormRoutes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		if r.Method == http.MethodPost && !isAPI(r.Path) {
			out = append(out, Route{r.Method, r.Path})
		}
	}
	return out
}

// bind decodes a JSON body strictly: unknown fields and wrong types are named,
// and every string is checked as text (see checkText) before anything is
// decoded, so no bad byte gets past the edge.
func bind(c echo.Context, dst any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeRequest(b, dst)
}

// decodeRequest is bind's work on a body read: the text checks, then the decoding.
func decodeRequest(b []byte, dst any) error {
	if problems := checkText(b, freeTextFields(dst)); len(problems) > 0 {
		return invalid("some fields hold text that cannot be stored", problems)
	}
	return bindBytes(b, dst)
}

// readBody reads the whole (size-limited) body.
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit)}
	}
	return b, err
}

func bindBytes(b []byte, dst any) error { return decodeStrict(bytes.NewReader(b), dst) }

func decodeStrict(r io.Reader, dst any) error {
	// The head of the body is kept to name where a wrongly typed value is:
	// encoding/json names the field but not the index in an array.
	head := &headBuffer{max: maxBody}
	dec := json.NewDecoder(io.TeeReader(r, head))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		if dec.More() {
			return invalid("the body must be one JSON object", nil)
		}
		return nil
	case errors.As(err, &maxErr):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit)}
	case errors.As(err, new(*Error)):
		return err // the body's deadline passed
	case errors.Is(err, io.EOF):
		return invalid("the body must be a JSON object", nil)
	case errors.As(err, &typeErr):
		path, ok := jsonPath(head.b, typeErr.Offset)
		if !ok {
			path = typeErr.Field
		}
		if path == "" {
			return invalid("the body must be a JSON object", nil)
		}
		want := "must be " + jsonKind(typeErr.Type)
		return invalid(path+" "+want, map[string]string{path: want})
	case errors.As(err, &syntaxErr):
		return invalid(fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err), nil)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid("unknown field "+name, map[string]string{name: "unknown field"})
	default:
		return invalid("malformed JSON: "+err.Error(), nil)
	}
}

// jsonKind says in JSON's words what a Go type takes.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "a JSON object"
	}
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// limitBody refuses bodies over the route's limit with 413, before reading them
// when the length is declared and while reading them when it is not, and gives
// the body a deadline so a slow client cannot hold the request open.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, timeout := int64(maxBody), s.bodyTimeout
		switch c.Path() {
		case "/v1/events":
			limit, timeout = MaxEventsBody, s.eventsBodyTimeout
		case "/v1/cases/:id/attachments": // a file of 10 MiB and its multipart envelope
			limit = cases.MaxAttachment + 64<<10
		case "/cases/:id/appeal": // the Plan of Action form: a file and three texts of POAMax characters
			limit = cases.MaxAttachment + 256<<10
		}
		r := c.Request()
		if r.ContentLength > limit {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
				Message: fmt.Sprintf("the body is larger than %d bytes", limit)}
		}
		if r.ContentLength != 0 {
			err := http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(timeout))
			if err != nil && !errors.Is(err, http.ErrNotSupported) {
				return fmt.Errorf("body deadline: %w", err)
			}
		}
		r.Body = &timedBody{ReadCloser: http.MaxBytesReader(c.Response(), r.Body, limit), timeout: timeout}
		return next(c)
	}
}

// timedBody names the deadline when a read passes it.
type timedBody struct {
	io.ReadCloser
	timeout time.Duration
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var maxErr *http.MaxBytesError
	switch {
	case err == nil || err == io.EOF || errors.As(err, &maxErr):
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = &Error{Status: http.StatusRequestTimeout, Code: "timeout",
			Message: fmt.Sprintf("the body did not arrive within %s", b.timeout)}
	default:
		// The client's fault (a body cut short), never a dependency's.
		err = invalid("the body could not be read: "+err.Error(), nil)
	}
	return n, err
}

// clientAddress says whose request it is, for the rate limits: the peer, or
// behind trusted proxies the nearest address in X-Forwarded-For they did not
// add. Echo's defaults also trust every loopback and private address; those
// are turned off, so only the configured networks are believed.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// inFlight caps the requests one client has in flight, so one client cannot
// hold every connection the server can serve.
type inFlight struct {
	max int
	mu  sync.Mutex
	n   map[string]int // by client IP
}

func (f *inFlight) limit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ip := c.RealIP()
		f.mu.Lock()
		if f.n[ip] >= f.max {
			f.mu.Unlock()
			return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
				Message: fmt.Sprintf("at most %d requests from one client at once; wait for an answer before sending more", f.max)}
		}
		f.n[ip]++
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			if f.n[ip]--; f.n[ip] == 0 {
				delete(f.n, ip)
			}
			f.mu.Unlock()
		}()
		return next(c)
	}
}

// allowedMethods answers 405 with Allow when the path has routes for other
// methods only. Echo would answer 404: the catch-all a group with middleware
// registers wins over its own 405.
func (s *Server) allowedMethods(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if s.routes[r.Method+" "+c.Path()] {
			return next(c)
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := s.echo.NewContext(r, nil)
			s.echo.Router().Find(m, echo.GetPath(r), probe)
			if s.routes[m+" "+probe.Path()] {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			return next(c)
		}
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: fmt.Sprintf("%s is not allowed here; this address takes %s", r.Method, strings.Join(allow, ", "))}
	}
}

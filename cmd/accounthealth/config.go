package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	amail "github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/activities/webhook"
	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
)

// config is the environment, read and checked once at start.
type config struct {
	HTTPAddr        string
	DataDir         string
	DatabaseURL     string // empty in dev: an SQLite file in DataDir
	TemporalAddress string // empty in dev: the embedded server
	TemporalDevPort int
	Namespace       string
	SMTPURL         string // empty in dev: the in-process capture
	MailFrom        string
	PolicyFile      string
	Policy          health.Policy
	AdminKey        string // empty in dev: generated and kept in DataDir
	PublicURL       string // the address people use in links in mail
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client.
	TrustedProxies []*net.IPNet

	// TemporalTLS is set when the Temporal frontend is reached over TLS (mutual
	// TLS with a client certificate, a private CA, or Temporal Cloud's API key).
	TemporalTLS    *tls.Config
	TemporalAPIKey string
	// WorkerStopTimeout is how long a stopping worker lets running activities
	// finish before it abandons them (Temporal retries them elsewhere).
	WorkerStopTimeout time.Duration
	WorkerAddr        string // the worker's own listener: /livez, /healthz, /metrics
	LogLevel          slog.Level
	LogFormat         string // "text" (the default) or "json"
	WebhookReach      webhook.Reach
	// InFlightPerClient is how many requests one client address may have in
	// flight at once (more get 429): a marketplace whose services reach the API
	// from a few addresses raises it.
	InFlightPerClient int
	// WorkflowCache is how many workflows the worker keeps in memory between
	// their tasks (Temporal's sticky cache). A case waits days between tasks;
	// one evicted replays its short history on its next task.
	WorkflowCache int
	// BulkMailBatches is how many batches of bulk mail (program invitations,
	// news of a tier) the worker delivers at once, each one message after another.
	BulkMailBatches int
}

// defaultWorkflowCache replaces the SDK's 10,000: a sweep that told 5,000
// cases kept all of them, 13,000 goroutines and their state, in the worker.
const defaultWorkflowCache = 2000

// defaultBulkMailBatches bounds the evaluations' batches of mail in delivery at
// once. Unbounded (one a shard), a first sweep at 100,000 sellers delivered 200
// at once, more than a third of the dev process's CPU while its cases opened;
// too few would leave a relay that takes a second a message hours behind. dev
// captures its mail in the process, where a message costs CPU, not waiting:
// there 2 opened a rehearsal's cases sooner than 8 (bench/results).
const (
	defaultBulkMailBatches    = 8
	defaultDevBulkMailBatches = 2
)

// knownVariables are every AH_* variable the program or its tests read; any
// other is reported at start, as it is most likely a misspelling.
var knownVariables = []string{
	"AH_HTTP_ADDR", "AH_DATA_DIR", "AH_DATABASE_URL", "AH_PUBLIC_URL", "AH_ADMIN_KEY", "AH_POLICY_FILE",
	"AH_SMTP_URL", "AH_MAIL_FROM",
	"AH_TEMPORAL_ADDRESS", "AH_TEMPORAL_NAMESPACE", "AH_TEMPORAL_DEV_PORT",
	"AH_TEMPORAL_TLS_CERT", "AH_TEMPORAL_TLS_KEY", "AH_TEMPORAL_TLS_CA", "AH_TEMPORAL_TLS_SERVER_NAME", "AH_TEMPORAL_API_KEY",
	"AH_WORKER_STOP_TIMEOUT", "AH_WORKER_ADDR", "AH_TRUSTED_PROXIES", "AH_IN_FLIGHT_PER_CLIENT",
	"AH_WORKFLOW_CACHE", "AH_BULK_MAIL_BATCHES",
	"AH_LOG_LEVEL", "AH_LOG_FORMAT", "AH_WEBHOOK_ALLOW_PRIVATE",
	// crash tests and test runs
	"AH_KILLPOINTS", "AH_TEST_POSTGRES_URL", "AH_RECORD_HISTORIES", "AH_CHAOS_SEED", "AH_CHAOS_RUNS", "AH_CHAOS_DB",
	"AH_CHROMIUM", "AH_SCREENSHOTS",
}

// unknownVariables lists the AH_* names of environ (NAME=value entries) that no
// part of the program reads, each with the known name it most resembles.
func unknownVariables(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "AH_") || slices.Contains(knownVariables, name) {
			continue
		}
		best, bestD := "", 4 // suggest only a near miss
		for _, k := range knownVariables {
			if d := editDistance(name, k); d < bestD {
				best, bestD = k, d
			}
		}
		if best != "" {
			out = append(out, fmt.Sprintf("%s is not a setting this program reads (did you mean %s?)", name, best))
		} else {
			out = append(out, name+" is not a setting this program reads")
		}
	}
	slices.Sort(out)
	return out
}

// editDistance is the Levenshtein distance of two ASCII names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// configError names the variable that stopped start-up.
type configError struct{ name, problem string }

func (e *configError) Error() string { return e.name + ": " + e.problem }

func loadConfig(mode string, getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	dev := mode == "dev"
	c := config{
		HTTPAddr:        get("AH_HTTP_ADDR", "127.0.0.1:8080"),
		DataDir:         get("AH_DATA_DIR", "./data"),
		DatabaseURL:     getenv("AH_DATABASE_URL"),
		TemporalAddress: getenv("AH_TEMPORAL_ADDRESS"),
		Namespace:       get("AH_TEMPORAL_NAMESPACE", "default"),
		SMTPURL:         getenv("AH_SMTP_URL"),
		MailFrom:        get("AH_MAIL_FROM", "account-health@localhost"),
		PolicyFile:      getenv("AH_POLICY_FILE"),
		AdminKey:        getenv("AH_ADMIN_KEY"),
		Policy:          health.DefaultPolicy(),
		WorkerAddr:      get("AH_WORKER_ADDR", ":8081"),
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("AH_LOG_LEVEL", "info"))); err != nil || !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(get("AH_LOG_LEVEL", "info"))) {
		return c, &configError{"AH_LOG_LEVEL", fmt.Sprintf("%q must be one of debug, info, warn, error", getenv("AH_LOG_LEVEL"))}
	}
	c.LogFormat = strings.ToLower(get("AH_LOG_FORMAT", "text"))
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, &configError{"AH_LOG_FORMAT", fmt.Sprintf("%q must be text or json", getenv("AH_LOG_FORMAT"))}
	}
	c.PublicURL = strings.TrimSuffix(get("AH_PUBLIC_URL", "http://"+c.HTTPAddr), "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, &configError{"AH_PUBLIC_URL", fmt.Sprintf("%q must be an http(s) URL such as https://health.example.com", c.PublicURL)}
	}
	var err error
	if c.TrustedProxies, err = parseNetworks(getenv("AH_TRUSTED_PROXIES")); err != nil {
		return c, &configError{"AH_TRUSTED_PROXIES", err.Error()}
	}
	if c.InFlightPerClient, err = strconv.Atoi(get("AH_IN_FLIGHT_PER_CLIENT", strconv.Itoa(api.DefaultInFlightPerClient))); err != nil || c.InFlightPerClient < 1 {
		return c, &configError{"AH_IN_FLIGHT_PER_CLIENT", fmt.Sprintf("%q must be a whole number of requests, at least 1", getenv("AH_IN_FLIGHT_PER_CLIENT"))}
	}
	if c.WorkflowCache, err = strconv.Atoi(get("AH_WORKFLOW_CACHE", strconv.Itoa(defaultWorkflowCache))); err != nil || c.WorkflowCache < 1 || c.WorkflowCache > 1_000_000 {
		return c, &configError{"AH_WORKFLOW_CACHE", fmt.Sprintf("%q must be a whole number of workflows, from 1 to 1000000", getenv("AH_WORKFLOW_CACHE"))}
	}
	bulkMail := defaultBulkMailBatches
	if dev {
		bulkMail = defaultDevBulkMailBatches
	}
	if c.BulkMailBatches, err = strconv.Atoi(get("AH_BULK_MAIL_BATCHES", strconv.Itoa(bulkMail))); err != nil || c.BulkMailBatches < 1 || c.BulkMailBatches > 1000 {
		return c, &configError{"AH_BULK_MAIL_BATCHES", fmt.Sprintf("%q must be a whole number of batches, from 1 to 1000", getenv("AH_BULK_MAIL_BATCHES"))}
	}
	if c.TemporalDevPort, err = strconv.Atoi(get("AH_TEMPORAL_DEV_PORT", "7233")); err != nil || c.TemporalDevPort < 1 || c.TemporalDevPort > 64535 {
		return c, &configError{"AH_TEMPORAL_DEV_PORT", fmt.Sprintf("%q must be a port from 1 to 64535 (its Web UI takes the port + 1000)", getenv("AH_TEMPORAL_DEV_PORT"))}
	}
	if mode == "serve" || dev {
		if err := checkHostPort(c.HTTPAddr); err != nil {
			return c, &configError{"AH_HTTP_ADDR", err.Error()}
		}
	}
	if mode == "worker" {
		if err := checkHostPort(c.WorkerAddr); err != nil {
			return c, &configError{"AH_WORKER_ADDR", err.Error()}
		}
	}
	if c.DatabaseURL == "" && !dev && mode != "import" && mode != "temporal-setup" {
		return c, &configError{"AH_DATABASE_URL", "is required (postgres://user:pass@host:5432/db)"}
	}
	// Endpoints on this machine or a private network are refused (server-side
	// request forgery) unless asked for; dev allows loopback so a newcomer can try
	// a receiver on their own machine.
	switch v := getenv("AH_WEBHOOK_ALLOW_PRIVATE"); v {
	case "true":
		c.WebhookReach = webhook.Any
	case "", "false":
		if dev {
			c.WebhookReach = webhook.Loopback
		}
	default:
		return c, &configError{"AH_WEBHOOK_ALLOW_PRIVATE", fmt.Sprintf("%q must be true or false", v)}
	}
	if mode == "migrate" || mode == "import" {
		c.DataDir, err = filepath.Abs(c.DataDir)
		return c, err
	}
	if c.TemporalAddress == "" && !dev {
		return c, &configError{"AH_TEMPORAL_ADDRESS", "is required (host:port of a Temporal frontend)"}
	}
	if c.TemporalAddress != "" {
		if err := checkHostPort(c.TemporalAddress); err != nil {
			return c, &configError{"AH_TEMPORAL_ADDRESS", err.Error()}
		}
	}
	if err := loadTemporalTLS(&c, getenv); err != nil {
		return c, err
	}
	if c.WorkerStopTimeout, err = time.ParseDuration(get("AH_WORKER_STOP_TIMEOUT", "30s")); err != nil || c.WorkerStopTimeout < 0 {
		return c, &configError{"AH_WORKER_STOP_TIMEOUT", fmt.Sprintf("%q must be a duration such as 30s or 2m", getenv("AH_WORKER_STOP_TIMEOUT"))}
	}
	if mode == "temporal-setup" {
		return c, nil
	}
	if c.SMTPURL == "" && !dev {
		return c, &configError{"AH_SMTP_URL", "is required (smtp://[user:pass@]host:port)"}
	}
	if c.SMTPURL != "" {
		if _, err := amail.ParseURL(c.SMTPURL); err != nil {
			return c, &configError{"AH_SMTP_URL", err.Error()}
		}
	}
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || a.Address == "" {
		return c, &configError{"AH_MAIL_FROM", fmt.Sprintf("%q is not an email address", c.MailFrom)}
	}
	if c.AdminKey == "" && mode == "serve" {
		return c, &configError{"AH_ADMIN_KEY", "is required for serve (at least 16 characters)"}
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		return c, &configError{"AH_ADMIN_KEY", "must be at least 16 characters"}
	}
	if c.PolicyFile != "" {
		data, err := os.ReadFile(c.PolicyFile)
		if err != nil {
			return c, &configError{"AH_POLICY_FILE", err.Error()}
		}
		if c.Policy, err = health.ParsePolicy(data); err != nil {
			return c, &configError{"AH_POLICY_FILE", fmt.Sprintf("%s: %v", c.PolicyFile, err)}
		}
	}
	if c.DataDir, err = filepath.Abs(c.DataDir); err != nil {
		return c, &configError{"AH_DATA_DIR", err.Error()}
	}
	return c, nil
}

// loadTemporalTLS reads the Temporal connection's certificates and API key. Any
// of them turns TLS on; they make no sense for dev's embedded (plaintext) server.
func loadTemporalTLS(c *config, getenv func(string) string) error {
	certFile, keyFile, caFile := getenv("AH_TEMPORAL_TLS_CERT"), getenv("AH_TEMPORAL_TLS_KEY"), getenv("AH_TEMPORAL_TLS_CA")
	serverName := getenv("AH_TEMPORAL_TLS_SERVER_NAME")
	c.TemporalAPIKey = getenv("AH_TEMPORAL_API_KEY")
	if certFile == "" && keyFile == "" && caFile == "" && serverName == "" && c.TemporalAPIKey == "" {
		return nil
	}
	if c.TemporalAddress == "" {
		for _, name := range []string{"AH_TEMPORAL_TLS_CERT", "AH_TEMPORAL_TLS_KEY", "AH_TEMPORAL_TLS_CA", "AH_TEMPORAL_TLS_SERVER_NAME", "AH_TEMPORAL_API_KEY"} {
			if getenv(name) != "" {
				return &configError{name, "applies to an external Temporal (AH_TEMPORAL_ADDRESS); the embedded dev server speaks plain gRPC"}
			}
		}
	}
	switch {
	case certFile != "" && keyFile == "":
		return &configError{"AH_TEMPORAL_TLS_KEY", "is required with AH_TEMPORAL_TLS_CERT (the client certificate's private key)"}
	case keyFile != "" && certFile == "":
		return &configError{"AH_TEMPORAL_TLS_CERT", "is required with AH_TEMPORAL_TLS_KEY (the client certificate)"}
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if certFile != "" {
		certPEM, err := os.ReadFile(certFile)
		if err != nil {
			return &configError{"AH_TEMPORAL_TLS_CERT", err.Error()}
		}
		keyPEM, err := os.ReadFile(keyFile)
		if err != nil {
			return &configError{"AH_TEMPORAL_TLS_KEY", err.Error()}
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return &configError{"AH_TEMPORAL_TLS_CERT", fmt.Sprintf("%s with the key %s: %v", certFile, keyFile, err)}
		}
		t.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		caPEM, err := os.ReadFile(caFile)
		if err != nil {
			return &configError{"AH_TEMPORAL_TLS_CA", err.Error()}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return &configError{"AH_TEMPORAL_TLS_CA", caFile + " holds no PEM certificate"}
		}
		t.RootCAs = pool
	}
	c.TemporalTLS = t
	return nil
}

// temporalOptions are the client options of the Temporal connection the
// configuration describes (address, namespace, TLS, API key).
func (c config) temporalOptions(hostPort string) client.Options {
	o := client.Options{HostPort: hostPort, Namespace: c.Namespace}
	if c.TemporalTLS != nil {
		o.ConnectionOptions.TLS = c.TemporalTLS.Clone()
	}
	if c.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(c.TemporalAPIKey)
	}
	return o
}

// parseNetworks reads a comma-separated list of CIDRs (a bare address is a
// network of one).
func parseNetworks(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			ip := net.ParseIP(item)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an IP address", item)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", item)
		}
		out = append(out, n)
	}
	return out, nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", s)
	}
	_ = host
	return nil
}

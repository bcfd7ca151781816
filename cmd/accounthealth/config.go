package main

import (
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

	amail "github.com/accounthealth/accounthealth/activities/mail"
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
	WorkerAddr      string // the worker's own listener: /livez, /healthz, /metrics
	LogLevel        slog.Level
	LogFormat       string // "text" (the default) or "json"
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
	if c.DatabaseURL == "" && !dev && mode != "import" {
		return c, &configError{"AH_DATABASE_URL", "is required (postgres://user:pass@host:5432/db)"}
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

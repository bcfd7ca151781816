package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/api"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accounthealth-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// workerEnv is a complete worker configuration, changed by each case.
func workerEnv(changes map[string]string) func(string) string {
	env := map[string]string{
		"AH_DATABASE_URL": "postgres://u@db:5432/ah", "AH_TEMPORAL_ADDRESS": "temporal.example.com:7233",
		"AH_SMTP_URL": "smtp://relay:25",
	}
	for k, v := range changes {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestTemporalConnectionSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nowhere.pem")

	t.Run("plain by default", func(t *testing.T) {
		c, err := loadConfig("worker", workerEnv(nil))
		if err != nil {
			t.Fatal(err)
		}
		o := c.temporalOptions(c.TemporalAddress)
		if o.HostPort != "temporal.example.com:7233" || o.Namespace != "default" || o.ConnectionOptions.TLS != nil || o.Credentials != nil {
			t.Errorf("options %+v, want a plaintext connection to the address", o)
		}
		if c.WorkerStopTimeout != 30*time.Second {
			t.Errorf("worker stop timeout %v, want 30s", c.WorkerStopTimeout)
		}
		if c.InFlightPerClient != api.DefaultInFlightPerClient {
			t.Errorf("requests in flight per client %d, want the API's default %d", c.InFlightPerClient, api.DefaultInFlightPerClient)
		}
		raised, err := loadConfig("worker", workerEnv(map[string]string{"AH_IN_FLIGHT_PER_CLIENT": "500"}))
		if err != nil || raised.InFlightPerClient != 500 {
			t.Errorf("AH_IN_FLIGHT_PER_CLIENT=500: %d, %v", raised.InFlightPerClient, err)
		}
		if c.WorkflowCache != defaultWorkflowCache {
			t.Errorf("workflow cache %d, want %d", c.WorkflowCache, defaultWorkflowCache)
		}
		if cached, err := loadConfig("worker", workerEnv(map[string]string{"AH_WORKFLOW_CACHE": "50000"})); err != nil || cached.WorkflowCache != 50000 {
			t.Errorf("AH_WORKFLOW_CACHE=50000: %d, %v", cached.WorkflowCache, err)
		}
		if c.BulkMailBatches != defaultBulkMailBatches {
			t.Errorf("bulk mail batches %d, want %d", c.BulkMailBatches, defaultBulkMailBatches)
		}
		if raised, err := loadConfig("worker", workerEnv(map[string]string{"AH_BULK_MAIL_BATCHES": "64"})); err != nil || raised.BulkMailBatches != 64 {
			t.Errorf("AH_BULK_MAIL_BATCHES=64: %d, %v", raised.BulkMailBatches, err)
		}
		// dev's mail is captured in the process, where it costs CPU, not waiting.
		if dev, err := loadConfig("dev", func(string) string { return "" }); err != nil || dev.BulkMailBatches != defaultDevBulkMailBatches {
			t.Errorf("dev's bulk mail batches %d, %v; want %d", dev.BulkMailBatches, err, defaultDevBulkMailBatches)
		}
	})
	t.Run("mutual TLS with a private CA", func(t *testing.T) {
		c, err := loadConfig("worker", workerEnv(map[string]string{"AH_TEMPORAL_TLS_CERT": cert, "AH_TEMPORAL_TLS_KEY": key,
			"AH_TEMPORAL_TLS_CA": cert, "AH_TEMPORAL_TLS_SERVER_NAME": "frontend.internal", "AH_TEMPORAL_NAMESPACE": "health.prod",
			"AH_WORKER_STOP_TIMEOUT": "2m"}))
		if err != nil {
			t.Fatal(err)
		}
		o := c.temporalOptions(c.TemporalAddress)
		tc := o.ConnectionOptions.TLS
		if tc == nil || len(tc.Certificates) != 1 || tc.RootCAs == nil || tc.ServerName != "frontend.internal" || o.Namespace != "health.prod" {
			t.Fatalf("TLS %+v, want the client certificate, the CA and the server name", tc)
		}
		if o.Credentials != nil {
			t.Error("credentials without an API key")
		}
		if c.WorkerStopTimeout != 2*time.Minute {
			t.Errorf("worker stop timeout %v, want 2m", c.WorkerStopTimeout)
		}
	})
	t.Run("Temporal Cloud API key", func(t *testing.T) {
		c, err := loadConfig("worker", workerEnv(map[string]string{"AH_TEMPORAL_API_KEY": "secret-key"}))
		if err != nil {
			t.Fatal(err)
		}
		o := c.temporalOptions(c.TemporalAddress)
		if o.Credentials == nil || o.ConnectionOptions.TLS == nil || o.ConnectionOptions.TLS.RootCAs != nil {
			t.Errorf("options %+v, want API key credentials over TLS with the system's roots", o)
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		bad  string // the variable the error must name
		say  string
	}{
		{"cert without key", map[string]string{"AH_TEMPORAL_TLS_CERT": cert}, "AH_TEMPORAL_TLS_KEY", "is required"},
		{"key without cert", map[string]string{"AH_TEMPORAL_TLS_KEY": key}, "AH_TEMPORAL_TLS_CERT", "is required"},
		{"unreadable cert", map[string]string{"AH_TEMPORAL_TLS_CERT": missing, "AH_TEMPORAL_TLS_KEY": key}, "AH_TEMPORAL_TLS_CERT", missing},
		{"unreadable key", map[string]string{"AH_TEMPORAL_TLS_CERT": cert, "AH_TEMPORAL_TLS_KEY": missing}, "AH_TEMPORAL_TLS_KEY", missing},
		{"key of another cert", map[string]string{"AH_TEMPORAL_TLS_CERT": cert, "AH_TEMPORAL_TLS_KEY": cert}, "AH_TEMPORAL_TLS_CERT", "with the key"},
		{"unreadable CA", map[string]string{"AH_TEMPORAL_TLS_CA": missing}, "AH_TEMPORAL_TLS_CA", missing},
		{"CA not PEM", map[string]string{"AH_TEMPORAL_TLS_CA": notPEM}, "AH_TEMPORAL_TLS_CA", "no PEM certificate"},
		{"bad stop timeout", map[string]string{"AH_WORKER_STOP_TIMEOUT": "soon"}, "AH_WORKER_STOP_TIMEOUT", "duration"},
		{"no requests in flight", map[string]string{"AH_IN_FLIGHT_PER_CLIENT": "0"}, "AH_IN_FLIGHT_PER_CLIENT", "at least 1"},
		{"requests in flight not a number", map[string]string{"AH_IN_FLIGHT_PER_CLIENT": "many"}, "AH_IN_FLIGHT_PER_CLIENT", "whole number"},
		{"no workflow cache", map[string]string{"AH_WORKFLOW_CACHE": "0"}, "AH_WORKFLOW_CACHE", "from 1"},
		{"workflow cache not a number", map[string]string{"AH_WORKFLOW_CACHE": "lots"}, "AH_WORKFLOW_CACHE", "whole number"},
		{"no bulk mail", map[string]string{"AH_BULK_MAIL_BATCHES": "0"}, "AH_BULK_MAIL_BATCHES", "from 1"},
		{"bulk mail not a number", map[string]string{"AH_BULK_MAIL_BATCHES": "many"}, "AH_BULK_MAIL_BATCHES", "whole number"},
		{"TLS for the embedded server", map[string]string{"AH_TEMPORAL_ADDRESS": "", "AH_TEMPORAL_API_KEY": "k"}, "AH_TEMPORAL_API_KEY", "embedded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mode := "worker"
			if _, set := tc.env["AH_TEMPORAL_ADDRESS"]; set {
				mode = "dev" // the only mode that runs without an address
			}
			_, err := loadConfig(mode, workerEnv(tc.env))
			if err == nil || !strings.HasPrefix(err.Error(), tc.bad+":") || !strings.Contains(err.Error(), tc.say) {
				t.Errorf("error %v, want one naming %s and saying %q", err, tc.bad, tc.say)
			}
		})
	}
}

func TestUnknownVariablesAreReported(t *testing.T) {
	got := unknownVariables([]string{"PATH=/bin", "AH_TEMPORAL_NAMESPCE=prod", "AH_HTTP_ADDR=:8080", "AH_SOMETHING_ELSE=1", "AH_LOG_LEVEL=debug"})
	want := []string{
		"AH_SOMETHING_ELSE is not a setting this program reads",
		"AH_TEMPORAL_NAMESPCE is not a setting this program reads (did you mean AH_TEMPORAL_NAMESPACE?)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTrustedProxiesSetting(t *testing.T) {
	c, err := loadConfig("worker", workerEnv(map[string]string{"AH_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,fd00::/8"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.7/32 fd00::/8" {
		t.Errorf("networks %v", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.0/8,,nope"} {
		if _, err := loadConfig("worker", workerEnv(map[string]string{"AH_TRUSTED_PROXIES": bad})); err == nil || !strings.HasPrefix(err.Error(), "AH_TRUSTED_PROXIES:") {
			t.Errorf("%q: %v, want an error naming AH_TRUSTED_PROXIES", bad, err)
		}
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp: `--help`, `-h` and `help <command>` answer every
// command with its usage on stdout and exit 0, touching no configuration.
func TestEveryCommandHasHelp(t *testing.T) {
	none := func(string) string { return "" }
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out, errs strings.Builder
		if code := run(context.Background(), args, none, &out, &errs); code != 0 || !strings.Contains(out.String(), "temporal-setup") {
			t.Errorf("%v: %d %q %q", args, code, out.String(), errs.String())
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			var out, errs strings.Builder
			if code := run(context.Background(), args, none, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "usage: accounthealth "+c.name) {
				t.Errorf("%v: %d %q %q", args, code, out.String(), errs.String())
			}
		}
	}
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"help", "nope"}, none, &out, &errs); code != 2 {
		t.Errorf("help of an unknown command: %d", code)
	}
	if code := run(context.Background(), []string{"import"}, none, &out, &errs); code != 2 || !strings.Contains(errs.String(), "import FILE") {
		t.Errorf("import without a file: %d %q", code, errs.String())
	}
}

func TestVersionAndProbe(t *testing.T) {
	none := func(string) string { return "" }
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"version"}, none, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "accounthealth ") {
		t.Errorf("version: %d %q", code, out.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if code := run(context.Background(), []string{"probe", srv.URL + "/healthz"}, none, &out, &errs); code != 0 {
		t.Errorf("probe of a healthy URL: %d %s", code, errs.String())
	}
	if code := run(context.Background(), []string{"probe", srv.URL + "/down"}, none, &out, &errs); code != 1 || !strings.Contains(errs.String(), "503") {
		t.Errorf("probe of an unhealthy URL: %d %s", code, errs.String())
	}
}

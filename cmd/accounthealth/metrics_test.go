package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/store/storetest"
)

// scrape reads /metrics with key and answers its samples by series.
func scrape(t *testing.T, base, key string) (int, map[string]float64) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	checkAnswer(t, req, resp, raw)
	samples := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			samples[line[:i]] = v
		}
	}
	return resp.StatusCode, samples
}

// TestMetricsAfterAFlow: after a seller is made, a breach evaluated and its case
// opened, /metrics (admin only on the API listener) shows the requests by route
// pattern, the evaluation, the case by state, the outbox, and the Temporal SDK's
// own metrics.
func TestMetricsAfterAFlow(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writePolicy(t, "1h")})
	key := provisionSeller(t, d.base, d.adminKey, "counted")
	c := openCase(t, d, "counted", key)
	call(t, "GET", d.base+"/v1/cases/"+c.ID, key, nil, nil)

	if code, _ := scrape(t, d.base, ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a key: %d, want 401", code)
	}
	if code, _ := scrape(t, d.base, key); code != http.StatusForbidden {
		t.Errorf("/metrics with a seller's key: %d, want 403", code)
	}
	code, m := scrape(t, d.base, d.adminKey)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	want := map[string]float64{
		`accounthealth_http_requests_total{code="201",method="POST",route="/v1/sellers"}`:     1,
		`accounthealth_http_requests_total{code="200",method="GET",route="/v1/cases/:id"}`:    1,
		`accounthealth_http_requests_total{code="401",method="GET",route="/metrics"}`:         1,
		`accounthealth_http_requests_total{code="202",method="POST",route="/v1/evaluations"}`: 1,
		`accounthealth_evaluations_total{status="completed",trigger="api"}`:                   1,
		`accounthealth_evaluation_sellers_total`:                                              1,
		`accounthealth_evaluation_breaches_total`:                                             1,
		`accounthealth_cases{state="warned"}`:                                                 1,
	}
	for series, v := range want {
		if got, ok := m[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	if _, ok := m[`accounthealth_http_request_duration_seconds_count{method="POST",route="/v1/sellers"}`]; !ok {
		t.Error("no latency histogram of POST /v1/sellers")
	}
	if _, ok := m[`accounthealth_outbox_oldest_pending_age_seconds`]; !ok {
		t.Error("no outbox age")
	}
	if m[`accounthealth_outbox_mail{status="sent"}`]+m[`accounthealth_outbox_mail{status="pending"}`] < 1 {
		t.Error("the case's mail is not in the outbox gauges")
	}
	temporal := 0
	raw := regexp.MustCompile(`^temporal_`)
	for series := range m {
		if raw.MatchString(series) {
			temporal++
		}
	}
	if temporal == 0 {
		t.Error("no temporal_ metrics: the SDK's metrics handler is not wired")
	}
	for series := range m {
		if strings.Contains(series, "counted") {
			t.Errorf("a raw id in a metric's labels: %s", series)
		}
	}
}

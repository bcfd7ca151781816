package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestLogLinesCarryTheRequestID: with AH_LOG_FORMAT=json every line is a JSON
// object; a request's X-Request-Id is answered back and named on its access
// line, and on the lines of the workflow and activities it started (the
// evaluation's summary, logged by its last activity).
func TestLogLinesCarryTheRequestID(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_LOG_FORMAT": "json", "AH_LOG_LEVEL": "info"})
	const id = "req-test-0042"
	req, _ := http.NewRequest("POST", d.base+"/v1/evaluations", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+d.adminKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Request-Id") != id {
		t.Fatalf("evaluation: %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	// An id that could forge a log line is replaced, and the new one answered.
	req, _ = http.NewRequest("GET", d.base+"/livez", nil)
	req.Header.Set("X-Request-Id", "bad id level=ERROR \"x\"")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \n") {
		t.Errorf("an insane X-Request-Id came back as %q", got)
	}

	var access, summary map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for (access == nil || summary == nil) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		sc := bufio.NewScanner(strings.NewReader(d.errs.String()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("a log line that is not JSON: %q", sc.Text())
			}
			if line["request_id"] != id {
				continue
			}
			switch line["msg"] {
			case "request":
				access = line
			case "evaluation completed":
				summary = line
			}
		}
	}
	if access == nil || access["route"] != "/v1/evaluations" || access["status"] != float64(202) || access["method"] != "POST" {
		t.Errorf("access line of the request: %v", access)
	}
	if summary == nil {
		t.Errorf("no line of the evaluation's activity names request %s:\n%s", id, d.errs)
	}
}

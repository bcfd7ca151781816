package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/app/ingest"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

func TestImportFile(t *testing.T) {
	dbURL := storetest.NewPostgresURL(t)
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "imp", Name: "Imp", Email: "imp@example.com"}, "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var b strings.Builder
	good := 0
	for i := range 12000 { // more than two chunks
		b.WriteString(mustJSON(map[string]any{"id": fmt.Sprintf("p%d", i), "type": "order_placed", "at": ts(now.Add(-time.Hour)),
			"seller_id": "imp", "order_id": fmt.Sprintf("o%d", i), "ship_by": ts(now.Add(time.Hour)), "deliver_by": ts(now.Add(48 * time.Hour))}) + "\n")
		good++
		switch i {
		case 10:
			b.WriteString(`{"id":"bad1","type":"feedback","at":"2026-01-01T00:00:00Z","order_id":"o1","rating":9}` + "\n") // line 12
		case 20:
			b.WriteString("this is not json\n") // line 23
		case 7000:
			b.WriteString(`{"id":"bad3","type":"chargeback","at":"2026-01-01T00:00:00Z","order_id":"nobody"}` + "\n") // line 7004
		}
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AH_DATABASE_URL": dbURL}
	var out, errs syncBuffer
	code := run(context.Background(), []string{"import", path}, func(k string) string { return env[k] }, &out, &errs)
	summary := out.String()
	if code == 0 || !strings.Contains(summary, "12000 events accepted") || !strings.Contains(summary, "3 lines rejected") {
		t.Fatalf("first import: exit %d\n%s\n%s", code, summary, errs.String())
	}
	for _, want := range []string{"line 12: rating", "line 23: must be a JSON object", "line 7004: order_id no order_placed"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(errs.String(), "100%") {
		t.Errorf("no progress shown: %q", errs.String())
	}
	out, errs = syncBuffer{}, syncBuffer{}
	run(context.Background(), []string{"import", path}, func(k string) string { return env[k] }, &out, &errs)
	if !strings.Contains(out.String(), "0 events accepted, 12000 duplicates") {
		t.Errorf("a re-run stored something again:\n%s", out.String())
	}
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != good {
		t.Errorf("%d orders stored (%v), want %d", n, err, good)
	}
}

// csvFile builds a CSV import file and keeps count of its lines, so a test knows
// where each row starts without trusting the reader under test.
type csvFile struct {
	b    strings.Builder
	w    *csv.Writer
	line int // the last line written
}

func newCSVFile(header ...string) *csvFile {
	f := &csvFile{}
	f.w = csv.NewWriter(&f.b)
	f.w.UseCRLF = true // as spreadsheets write it
	f.row(header...)
	return f
}

// row writes a record and returns the line it starts on.
func (f *csvFile) row(cells ...string) int {
	start := f.line + 1
	if err := f.w.Write(cells); err != nil {
		panic(err)
	}
	f.w.Flush()
	f.line = start
	for _, c := range cells {
		f.line += strings.Count(c, "\n")
	}
	return start
}

// raw writes one line as is, for rows csv.Writer would not produce.
func (f *csvFile) raw(text string) int {
	f.b.WriteString(text + "\r\n")
	f.line++
	return f.line
}

func TestImportCSV(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.NewPostgresURL(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "imp", Name: "Imp", Email: "imp@example.com"}, "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	placed, shipBy, deliverBy, later := ts(now.Add(-2*time.Hour)), ts(now.Add(time.Hour)), ts(now.Add(48*time.Hour)), ts(now.Add(-time.Hour))
	// Not in the order of health.Event: the header, not the position, names a cell.
	f := newCSVFile("type", "id", "at", "seller_id", "order_id", "ship_by", "deliver_by", "carrier", "tracking_number", "rating", "message_id", "needs_response")
	order := func(i int) []string {
		return []string{"order_placed", fmt.Sprintf("p%d", i), placed, "imp", fmt.Sprintf("o%d", i), shipBy, deliverBy, "", "", "", "", ""}
	}
	feedback := func(id string, order int, rating string) []string {
		return []string{"feedback", id, later, "", fmt.Sprintf("o%d", order), "", "", "", "", rating, "", ""}
	}
	const orders = 4000
	accepted, ratings, ratingSum := 0, 0, 0
	rejected := map[int]string{} // line -> the start of its problem
	for i := range orders {
		f.row(order(i)...)
		accepted++
		if i%3 == 0 { // more than one chunk of events in all
			r := i/3%5 + 1
			f.row(feedback(fmt.Sprintf("f%d", i), i, strconv.Itoa(r))...)
			accepted, ratings, ratingSum = accepted+1, ratings+1, ratingSum+r
		}
		switch i {
		case 1:
			// A quoted cell with a comma; one with a line break, which parses (the rows
			// after it start a line later than their count) but is no tracking number:
			// a control character is refused, naming the field, as POST /v1/events does.
			f.row("order_shipped", "s1", later, "", "o1", "", "", "Acme, Inc.", "TRK-1", "", "", "")
			rejected[f.row("order_shipped", "s1b", later, "", "o1", "", "", "Acme", "TRK-1\nbox 2", "", "", "")] =
				"tracking_number must not contain control characters (found U+000A)"
			f.row("buyer_message", "m1", later, "imp", "", "", "", "", "", "", "msg1", "TRUE")
			f.row("buyer_message", "m2", later, "imp", "", "", "", "", "", "", "msg2", "false")
			accepted += 3
		case 500:
			rejected[f.row("order_teleported", "bad-type", later, "", "o500", "", "", "", "", "", "", "")] = `type unknown event type "order_teleported"`
		case 2000:
			rejected[f.row(append(order(99999), "extra")...)] = "has 13 cells, the header names 12 columns"
		case 2501:
			rejected[f.row(feedback("bad-rating", 2501, "9")...)] = "rating must be a whole number from 1 to 5"
		case 3001:
			rejected[f.row(feedback("word-rating", 3001, "five")...)] = "rating must be a whole number from 1 to 5"
		case 3500:
			rejected[f.raw(`order_placed,bad-quote,`+placed+`,imp,o"3500b,`+shipBy+`,`+deliverBy+`,,,,,`)] = `not valid CSV: bare " in non-quoted-field`
		case 3900: // in the second chunk: the store, not DecodeEvent, rejects it
			rejected[f.row(feedback("no-order", 99999, "4")...)] = `order_id no order_placed event for order "o99999"`
		case 3950:
			f.row(order(10)...) // the same event again
		}
	}
	path := filepath.Join(t.TempDir(), "events.csv")
	if err := os.WriteFile(path, []byte(f.b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AH_DATABASE_URL": dbURL}
	getenv := func(k string) string { return env[k] }

	var out, errs syncBuffer
	code := run(ctx, []string{"import", path}, getenv, &out, &errs)
	summary := out.String()
	want := fmt.Sprintf("imported %s: %d lines, %d events accepted, 1 duplicates (already stored), %d lines rejected\n",
		path, f.line, accepted, len(rejected))
	if code != 1 || !strings.HasPrefix(summary, want) {
		t.Fatalf("first import: exit %d (want 1); want the summary to start with\n%s\ngot\n%s\n%s", code, want, summary, errs.String())
	}
	checkRejected(t, summary, rejected)
	if !strings.Contains(errs.String(), "100%") {
		t.Errorf("no progress shown: %q", errs.String())
	}

	checkStored := func(when string) {
		t.Helper()
		var n, events, withRating, sum int
		if err := st.DB().QueryRow("SELECT COUNT(*), COUNT(feedback_rating), COALESCE(SUM(feedback_rating), 0) FROM orders").Scan(&n, &withRating, &sum); err != nil {
			t.Fatal(err)
		}
		if n != orders || withRating != ratings || sum != ratingSum {
			t.Errorf("%s: %d orders, %d with a rating summing to %d; want %d, %d, %d", when, n, withRating, sum, orders, ratings, ratingSum)
		}
		if err := st.DB().QueryRow("SELECT COUNT(*) FROM processed_events").Scan(&events); err != nil || events != accepted {
			t.Errorf("%s: %d events stored (%v), want %d", when, events, err, accepted)
		}
		var rating int
		var carrier, tracking string
		if err := st.DB().QueryRow("SELECT feedback_rating FROM orders WHERE order_id = 'o3'").Scan(&rating); err != nil || rating != 2 {
			t.Errorf("%s: o3 has rating %d (%v), want 2", when, rating, err)
		}
		if err := st.DB().QueryRow("SELECT carrier, tracking_number FROM orders WHERE order_id = 'o1'").Scan(&carrier, &tracking); err != nil ||
			carrier != "Acme, Inc." || tracking != "TRK-1" {
			t.Errorf("%s: o1 shipped with carrier %q, tracking %q (%v)", when, carrier, tracking, err)
		}
		rows, err := st.DB().Query("SELECT message_id, needs_response FROM buyer_messages ORDER BY message_id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]bool{}
		for rows.Next() {
			var id string
			var needs bool
			if err := rows.Scan(&id, &needs); err != nil {
				t.Fatal(err)
			}
			got[id] = needs
		}
		if len(got) != 2 || !got["msg1"] || got["msg2"] {
			t.Errorf("%s: buyer messages %v, want msg1 needing a response and msg2 not", when, got)
		}
	}
	checkStored("first import")

	out, errs = syncBuffer{}, syncBuffer{}
	code = run(ctx, []string{"import", path}, getenv, &out, &errs)
	want = fmt.Sprintf("0 events accepted, %d duplicates (already stored), %d lines rejected\n", accepted+1, len(rejected))
	if code != 1 || !strings.Contains(out.String(), want) {
		t.Errorf("re-run: exit %d, want 1 and %q in\n%s\n%s", code, want, out.String(), errs.String())
	}
	checkRejected(t, out.String(), rejected)
	checkStored("re-run")
}

// The round-2 events go in through a CSV file like the others; a refund "by"
// expired, an unknown "by" and a return of an order nobody placed are rejected,
// each naming its field, and leave nothing behind.
func TestImportReturnsRefundsAndExpiries(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.NewPostgresURL(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "imp", Name: "Imp", Email: "imp@example.com"}, "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	at := func(h int) string { return ts(now.Add(time.Duration(h) * time.Hour)) }
	f := newCSVFile("id", "type", "at", "seller_id", "order_id", "ship_by", "deliver_by", "by")
	for _, o := range []string{"r", "x", "m"} {
		f.row("p-"+o, "order_placed", at(-48), "imp", o, at(-24), at(24), "")
	}
	f.row("d-r", "order_delivered", at(-20), "", "r", "", "", "")
	f.row("ret-r", "order_returned", at(-10), "", "r", "", "", "")
	f.row("ref-r", "refund_issued", at(-9), "", "r", "", "", "seller")
	f.row("ref-m", "refund_issued", at(-9), "", "m", "", "", "marketplace")
	f.row("exp-x", "order_cancelled", at(-30), "", "x", "", "", "expired")
	rejected := map[int]string{
		f.row("bad-by", "refund_issued", at(-8), "", "r", "", "", "expired"):    `by "expired" must be one of [seller marketplace]`,
		f.row("bad-who", "order_cancelled", at(-8), "", "m", "", "", "courier"): `by "courier" must be one of [seller buyer expired]`,
		f.row("bad-order", "order_returned", at(-8), "", "nobody", "", "", ""):  `order_id no order_placed event for order "nobody"`,
	}
	path := filepath.Join(t.TempDir(), "events.csv")
	if err := os.WriteFile(path, []byte(f.b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AH_DATABASE_URL": dbURL}
	var out, errs syncBuffer
	if code := run(ctx, []string{"import", path}, func(k string) string { return env[k] }, &out, &errs); code != 1 ||
		!strings.Contains(out.String(), "8 events accepted, 0 duplicates (already stored), 3 lines rejected") {
		t.Fatalf("import: exit %d (want 1)\n%s\n%s", code, out.String(), errs.String())
	}
	checkRejected(t, out.String(), rejected)
	type facts struct {
		returned, sellerRefund, marketplaceRefund *int64
		cancelledBy                               *string
	}
	got := map[string]string{}
	rows, err := st.DB().Query("SELECT order_id, returned_at, seller_refund_at, marketplace_refund_at, cancelled_by FROM orders")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	show := func(v *int64) string {
		if v == nil {
			return "-"
		}
		return time.UnixMilli(*v).UTC().Format(time.RFC3339)
	}
	for rows.Next() {
		var id string
		var f facts
		if err := rows.Scan(&id, &f.returned, &f.sellerRefund, &f.marketplaceRefund, &f.cancelledBy); err != nil {
			t.Fatal(err)
		}
		by := "-"
		if f.cancelledBy != nil {
			by = *f.cancelledBy
		}
		got[id] = fmt.Sprintf("returned %s refunded by seller %s by marketplace %s cancelled by %s", show(f.returned), show(f.sellerRefund), show(f.marketplaceRefund), by)
	}
	want := map[string]string{
		"r": fmt.Sprintf("returned %s refunded by seller %s by marketplace - cancelled by -", at(-10), at(-9)),
		"m": fmt.Sprintf("returned - refunded by seller - by marketplace %s cancelled by -", at(-9)),
		"x": "returned - refunded by seller - by marketplace - cancelled by expired",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n %v\nwant\n %v", got, want)
	}
	var events int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM processed_events WHERE id LIKE 'bad-%'").Scan(&events); err != nil || events != 0 {
		t.Errorf("%d rejected events stored (%v)", events, err)
	}
}

// checkRejected compares the "line N: problem" list of a summary with want.
func checkRejected(t *testing.T, summary string, want map[int]string) {
	t.Helper()
	got := map[int]string{}
	for _, m := range regexp.MustCompile(`(?m)^  line (\d+): (.*)$`).FindAllStringSubmatch(summary, -1) {
		n, _ := strconv.Atoi(m[1])
		got[n] = m[2]
	}
	for line, problem := range want {
		if !strings.HasPrefix(got[line], problem) {
			t.Errorf("line %d: got %q, want %q", line, got[line], problem)
		}
	}
	for line, problem := range got {
		if _, ok := want[line]; !ok {
			t.Errorf("line %d rejected unexpectedly: %s", line, problem)
		}
	}
}

func TestImportCSVBadHeader(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.NewPostgresURL(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "imp", Name: "Imp", Email: "imp@example.com"}, "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	cells := map[string]string{"id": "p1", "type": "order_placed", "at": ts(now.Add(-time.Hour)), "seller_id": "imp",
		"order_id": "o1", "ship_by": ts(now.Add(time.Hour)), "deliver_by": ts(now.Add(48 * time.Hour)), "rateing": "5"}
	for _, tc := range []struct {
		name, file string
		header     []string
		want       string
	}{
		{"unknown column", "events.csv", []string{"id", "type", "at", "seller_id", "order_id", "ship_by", "deliver_by", "rateing"}, `column 8 "rateing" is not an event field`},
		{"duplicate column", "events.csv", []string{"id", "type", "at", "seller_id", "order_id", "order_id", "ship_by", "deliver_by"}, `column "order_id" appears twice`},
		{"no id", "events.csv", []string{"type", "at", "seller_id", "order_id", "ship_by", "deliver_by"}, `no "id" column`},
		// The extension is matched in any case.
		{"no type", "EVENTS.CSV", []string{"id", "at", "seller_id", "order_id", "ship_by", "deliver_by"}, `no "type" column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCSVFile(tc.header...)
			row := make([]string, len(tc.header))
			for i, h := range tc.header {
				row[i] = cells[h]
			}
			f.row(row...) // a good event, were the header read leniently
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(f.b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errs syncBuffer
			code := run(ctx, []string{"import", path}, func(k string) string { return map[string]string{"AH_DATABASE_URL": dbURL}[k] }, &out, &errs)
			if code != 1 || !strings.Contains(errs.String(), tc.want) || !strings.Contains(errs.String(), "line 1") {
				t.Errorf("exit %d, want 1 and %q on line 1 in stderr: %q", code, tc.want, errs.String())
			}
			if out.String() != "" {
				t.Errorf("a summary for an import that did not start:\n%s", out.String())
			}
			var events, orders int
			if err := st.DB().QueryRow("SELECT (SELECT COUNT(*) FROM processed_events), (SELECT COUNT(*) FROM orders)").Scan(&events, &orders); err != nil {
				t.Fatal(err)
			}
			if events != 0 || orders != 0 {
				t.Errorf("stored %d events and %d orders, want none", events, orders)
			}
		})
	}
}

// TestImportCSVMatchesNDJSON checks that a CSV row decodes to exactly what the same
// event does as an NDJSON line: event and problems alike.
func TestImportCSVMatchesNDJSON(t *testing.T) {
	at := "2026-03-01T12:00:00Z"
	samples := []map[string]any{
		{"id": "1", "type": "order_placed", "at": at, "seller_id": "s", "order_id": "o", "ship_by": "2026-03-02T12:00:00Z", "deliver_by": "2026-03-05T12:00:00Z"},
		{"id": "2", "type": "order_shipped", "at": at, "order_id": "o", "carrier": "Acme, Inc.", "tracking_number": ""},
		{"id": "3", "type": "order_shipped", "at": at, "order_id": "o", "carrier": "UPS", "tracking_number": "1Z\n\"99\""},
		{"id": "4", "type": "tracking_scanned", "at": at, "order_id": "o"},
		{"id": "5", "type": "order_delivered", "at": at, "order_id": "o"},
		{"id": "6", "type": "order_cancelled", "at": at, "order_id": "o", "by": "buyer"},
		{"id": "7", "type": "a_to_z_claim", "at": at, "order_id": "o", "outcome": "granted"},
		{"id": "8", "type": "chargeback", "at": at, "order_id": "o"},
		{"id": "9", "type": "feedback", "at": at, "order_id": "o", "rating": 4},
		{"id": "10", "type": "feedback", "at": at, "order_id": "o", "rating": 4.5},
		{"id": "11", "type": "feedback", "at": at, "order_id": "o", "rating": 9},
		{"id": "12", "type": "feedback", "at": at, "order_id": "o", "rating": "five"},
		{"id": "13", "type": "buyer_message", "at": at, "seller_id": "s", "message_id": "m", "needs_response": true},
		{"id": "14", "type": "buyer_message", "at": at, "seller_id": "s", "message_id": "m", "needs_response": false},
		{"id": "15", "type": "buyer_message", "at": at, "seller_id": "s", "message_id": "m", "needs_response": "yes"},
		{"id": "16", "type": "message_response", "at": at, "message_id": "m"},
		{"id": "17", "type": "order_teleported", "at": at},
		{"id": "18", "type": "feedback", "order_id": "o"},
		{"id": "19", "type": "order_cancelled", "at": at, "order_id": "o", "by": "expired"},
		{"id": "20", "type": "order_returned", "at": at, "order_id": "o"},
		{"id": "21", "type": "refund_issued", "at": at, "order_id": "o", "by": "seller"},
		{"id": "22", "type": "refund_issued", "at": at, "order_id": "o", "by": "marketplace"},
		{"id": "23", "type": "refund_issued", "at": at, "order_id": "o", "by": "expired"},
		{"id": "24", "type": "refund_issued", "at": at, "order_id": "o"},
	}
	header := sortedColumns()
	f := newCSVFile(header...)
	for _, s := range samples {
		row := make([]string, len(header))
		for i, h := range header {
			switch v := s[h].(type) {
			case nil:
			case bool: // as spreadsheets write it
				row[i] = strings.ToUpper(strconv.FormatBool(v))
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		f.row(row...)
	}
	src, err := newCSVSource(strings.NewReader(f.b.String()))
	if err != nil {
		t.Fatal(err)
	}
	line := 2
	for _, s := range samples {
		raw, err := src.next()
		if err != nil || raw.problem != "" {
			t.Fatalf("event %s: %v %s", s["id"], err, raw.problem)
		}
		if raw.line != line {
			t.Errorf("event %s on line %d, want %d", s["id"], raw.line, line)
		}
		line += 1 + strings.Count(fmt.Sprint(s["tracking_number"]), "\n")
		wantE, wantP := ingest.DecodeEvent([]byte(mustJSON(s)))
		gotE, gotP := ingest.DecodeEvent(raw.json)
		if !reflect.DeepEqual(gotE, wantE) || !reflect.DeepEqual(gotP, wantP) {
			t.Errorf("event %s: from CSV %s\n  %+v %v\nfrom JSON %s\n  %+v %v", s["id"], raw.json, gotE, gotP, mustJSON(s), wantE, wantP)
		}
	}
	if _, err := src.next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last row: %v, want io.EOF", err)
	}
	if src.linesRead() != f.line {
		t.Errorf("%d lines read, the file has %d", src.linesRead(), f.line)
	}
}

// TestImportCSVColumnsMatchEvent keeps csvColumns in step with health.Event: a new
// event field needs a column, with the JSON type of its Go type.
func TestImportCSVColumnsMatchEvent(t *testing.T) {
	typ := reflect.TypeFor[health.Event]()
	if typ.NumField() != len(csvColumns) {
		t.Errorf("health.Event has %d fields, csvColumns %d", typ.NumField(), len(csvColumns))
	}
	for i := range typ.NumField() {
		field := typ.Field(i)
		// SellerID -> seller_id, NeedsResponse -> needs_response
		name := strings.ToLower(regexp.MustCompile(`([a-z])([A-Z])`).ReplaceAllString(field.Name, "${1}_${2}"))
		want := cellString
		switch field.Type.Kind() {
		case reflect.Int:
			want = cellNumber
		case reflect.Bool:
			want = cellBool
		}
		if kind, ok := csvColumns[name]; !ok || kind != want {
			t.Errorf("health.Event.%s: column %q has kind %d (known %v), want %d", field.Name, name, kind, ok, want)
		}
	}
}

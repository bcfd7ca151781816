package ingest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// The event scanner is kept because it is faster than the alternatives at the
// one thing it does (splitting a flat JSON object); these benchmarks hold it to
// that: go test -run X -bench . ./app/ingest
var benchEvent = []byte(`{"id":"evt-000123","type":"order_placed","at":"2026-03-01T12:00:00Z","seller_id":"seller-0042",` +
	`"order_id":"order-000123","ship_by":"2026-03-03T12:00:00Z","deliver_by":"2026-03-08T12:00:00Z"}`)

// BenchmarkDecodeEvent is the whole decode as the API runs it: scan and check.
func BenchmarkDecodeEvent(b *testing.B) {
	for b.Loop() {
		if _, p := DecodeEvent(benchEvent); p != nil {
			b.Fatal(p)
		}
	}
}

func BenchmarkSplitScanner(b *testing.B) {
	for b.Loop() {
		if _, ok := scanFlatObject(benchEvent); !ok {
			b.Fatal("not scanned")
		}
	}
}

func BenchmarkSplitEncodingJSON(b *testing.B) {
	for b.Loop() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(benchEvent, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// The same event decoded by encoding/json straight into a struct: what a plain
// handler would do, with no per-field problems to report.
func BenchmarkStructEncodingJSON(b *testing.B) {
	var e struct {
		ID        string    `json:"id"`
		Type      string    `json:"type"`
		At        time.Time `json:"at"`
		SellerID  string    `json:"seller_id"`
		OrderID   string    `json:"order_id"`
		ShipBy    time.Time `json:"ship_by"`
		DeliverBy time.Time `json:"deliver_by"`
	}
	for b.Loop() {
		if err := json.Unmarshal(benchEvent, &e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitFastjson(b *testing.B) {
	var p fastjson.Parser
	for b.Loop() {
		v, err := p.ParseBytes(benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		o, err := v.Object()
		if err != nil {
			b.Fatal(err)
		}
		// fastjson unescapes strings lazily: read each, as the scanner checks each.
		o.Visit(func(_ []byte, v *fastjson.Value) {
			if v.Type() == fastjson.TypeString {
				_, _ = v.StringBytes()
			}
		})
	}
}

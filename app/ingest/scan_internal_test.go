package ingest

import (
	"encoding/json"
	"testing"
)

// The fast scanner must agree with encoding/json wherever it answers, and answer
// for the flat objects events are.
func FuzzScanFlatObject(f *testing.F) {
	for _, seed := range []string{
		`{"id":"e1","type":"order_placed","at":"2026-03-01T12:00:00Z","rating":5,"needs_response":true,"x":null}`,
		` { "id" : "e1" , "type":"feedback" } `,
		`{}`, `{ }`, `null`, `[]`, `"str"`, `{"a":1}x`, `{"a":1,}`, `{"a"1}`, `{"a":}`, `{"a":"b\"c"}`, `{"a":"\u00e9\n"}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"b\x01\"}", `{"a\"b":1}`, `{"a":{"b":1}}`, `{"a":[1]}`, `{"a":1,"a":2}`,
		`{"a":01}`, `{"a":-1.5e3}`, `{"a":tru}`, `{"a":1 "b":2}`, "{\"a\":\"\xff\"}", `{"a":"\`, `{"a`, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, ok := scanFlatObject(b)
		var m map[string]json.RawMessage
		err := json.Unmarshal(b, &m)
		if !ok {
			return // encoding/json decides
		}
		if err != nil || m == nil {
			t.Fatalf("%q: scanned as an object, but encoding/json says %v", b, err)
		}
		names := map[string]bool{}
		for _, mb := range obj {
			names[mb.name] = true
		}
		if len(names) != len(m) {
			t.Fatalf("%q: %d names, encoding/json %d", b, len(names), len(m))
		}
		for name, want := range m {
			got, found := obj.get(name)
			if !found || string(got) != string(want) {
				t.Fatalf("%q: %s = %s, encoding/json %s", b, name, got, want)
			}
		}
	})
}

func TestEventsTakeTheFastPath(t *testing.T) {
	if _, ok := scanFlatObject([]byte(`{"id":"e1","type":"feedback","at":"2026-03-01T12:00:00Z","order_id":"o1","rating":2}`)); !ok {
		t.Error("a plain event fell back to encoding/json")
	}
}

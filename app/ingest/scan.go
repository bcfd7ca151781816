package ingest

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// object is a JSON object's members in order; a name given twice means its last
// value, as encoding/json has it.
type object []member

type member struct {
	name  string
	value json.RawMessage
}

func (o object) get(name string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].name == name {
			return o[i].value, true
		}
	}
	return nil, false
}

// scanFlatObject splits a JSON object whose values are all scalars (every event
// is one) into its members, without reflection or a map: decoding is most of the
// API's own work on a large batch. Anything else (a nested value, an escaped
// name, input that is not well-formed) says ok=false and is left to
// encoding/json, so the two agree on every input.
func scanFlatObject(b []byte) (obj object, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	obj = make(object, 0, 8)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return obj, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := stringEnd(b, i)
		if end < 0 || bytes.IndexByte(b[i:end], '\\') >= 0 || !utf8.Valid(b[i+1:end-1]) {
			return nil, false
		}
		name := string(b[i+1 : end-1])
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		start := i
		switch {
		case i >= len(b):
			return nil, false
		case b[i] == '"':
			if i = stringEnd(b, i); i < 0 {
				return nil, false
			}
		case b[i] == '{' || b[i] == '[':
			return nil, false
		default:
			for i < len(b) && b[i] != ',' && b[i] != '}' && !isSpace(b[i]) {
				i++
			}
			if !json.Valid(b[start:i]) {
				return nil, false
			}
		}
		obj = append(obj, member{name, json.RawMessage(b[start:i])})
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			return obj, skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return nil, false
		}
		i = skipSpace(b, i+1)
	}
}

// stringEnd is the index just past the JSON string starting at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			j++
			if j >= len(b) {
				return -1
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return -1
				}
				for _, h := range b[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				j += 4
			default:
				return -1
			}
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

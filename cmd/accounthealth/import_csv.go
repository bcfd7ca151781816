package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// cellKind is the JSON type a CSV cell becomes.
type cellKind int

const (
	cellString cellKind = iota
	cellNumber
	cellBool
)

// csvColumns are the event fields of health.DecodeEvent, with the JSON type each
// takes. health exports no such list, so TestImportCSVColumnsMatchEvent keeps this
// one in step with health.Event.
var csvColumns = map[string]cellKind{
	"id":              cellString,
	"type":            cellString,
	"at":              cellString,
	"seller_id":       cellString,
	"order_id":        cellString,
	"ship_by":         cellString,
	"deliver_by":      cellString,
	"tracking_number": cellString,
	"carrier":         cellString,
	"by":              cellString,
	"outcome":         cellString,
	"rating":          cellNumber,
	"message_id":      cellString,
	"needs_response":  cellBool,
}

// csvSource turns each CSV row into the JSON object an NDJSON line would hold, so
// that CSV goes through exactly the validation NDJSON does.
type csvSource struct {
	r       *csv.Reader
	columns []string
	keys    [][]byte // the JSON-encoded column names, made once
	lines   int
}

// newCSVSource reads and checks the header row. A header it cannot use is an
// error, not a rejected line: every row would be read wrongly.
func newCSVSource(r io.Reader) (*csvSource, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty CSV file: the first row must name the columns (id, type, …)")
	}
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	line, _ := cr.FieldPos(0)
	if len(header) > 0 {
		// Spreadsheets often start a UTF-8 file with a byte-order mark.
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	s := &csvSource{r: cr, columns: make([]string, len(header)), keys: make([][]byte, len(header))}
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.TrimSpace(h)
		if _, ok := csvColumns[name]; !ok {
			return nil, fmt.Errorf("CSV header (line %d): column %d %q is not an event field; the fields are %s",
				line, i+1, name, strings.Join(sortedColumns(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("CSV header (line %d): column %q appears twice", line, name)
		}
		seen[name] = true
		s.columns[i] = name
		s.keys[i], _ = json.Marshal(name)
	}
	for _, required := range []string{"id", "type"} {
		if !seen[required] {
			return nil, fmt.Errorf("CSV header (line %d): no %q column; every event needs one", line, required)
		}
	}
	s.lines = endLine(cr, header)
	return s, nil
}

func (s *csvSource) next() (rawEvent, error) {
	record, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return rawEvent{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// Like a bad NDJSON line, a bad row is rejected and the import goes on.
		// The reader has consumed the row, so the next Read starts after it.
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			s.lines = max(s.lines, endLine(s.r, record))
			return rawEvent{line: pe.StartLine, problem: fmt.Sprintf("has %d cells, the header names %d columns", len(record), len(s.columns))}, nil
		}
		s.lines = max(s.lines, pe.Line)
		return rawEvent{line: pe.StartLine, problem: "not valid CSV: " + pe.Err.Error()}, nil
	}
	if err != nil {
		return rawEvent{}, fmt.Errorf("read CSV after line %d: %w", s.lines, err)
	}
	line, _ := s.r.FieldPos(0)
	s.lines = endLine(s.r, record)
	return rawEvent{line: line, json: s.object(record)}, nil
}

func (s *csvSource) linesRead() int { return s.lines }

// object writes a row as a JSON object; an empty cell leaves its field out.
func (s *csvSource) object(record []string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, cell := range record {
		if cell == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(s.keys[i])
		b.WriteByte(':')
		b.Write(cellJSON(csvColumns[s.columns[i]], cell))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// cellJSON gives a cell the JSON type its field expects. A cell that does not
// parse as that type stays a JSON string, so DecodeEvent reports the problem in
// the same words as for NDJSON.
func cellJSON(kind cellKind, cell string) []byte {
	switch kind {
	case cellNumber:
		n := strings.TrimSpace(cell)
		// ParseFloat alone would take NaN, Inf and hex; JSON takes none of them.
		if _, err := strconv.ParseFloat(n, 64); err == nil && json.Valid([]byte(n)) {
			return []byte(n)
		}
	case cellBool:
		// true/false in any case spreadsheets write them, and 1/0.
		if v, err := strconv.ParseBool(strings.TrimSpace(cell)); err == nil {
			return strconv.AppendBool(nil, v)
		}
	}
	out, _ := json.Marshal(cell) // a string always encodes
	return out
}

// endLine is the line a just-read record ends on: a quoted last cell may span lines.
func endLine(r *csv.Reader, record []string) int {
	if len(record) == 0 {
		return 0
	}
	last := len(record) - 1
	line, _ := r.FieldPos(last)
	return line + strings.Count(record[last], "\n")
}

func sortedColumns() []string {
	names := make([]string, 0, len(csvColumns))
	for name := range csvColumns {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

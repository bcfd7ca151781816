package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/app/ingest"
	"github.com/accounthealth/accounthealth/store"
)

// importChunk is how many events go to the database in one transaction.
const importChunk = 5000

// rejectedLine is a line the import could not take.
type rejectedLine struct {
	line    int
	problem string
}

type importStats struct {
	lines, accepted, duplicates int
	rejected                    []rejectedLine
}

// importFile streams a file of events through the same validation as POST
// /v1/events, in chunks: NDJSON (one JSON event per line), or CSV when the name ends
// in .csv. A bad line is rejected and reported with its number; the rest goes in.
// Event ids make a re-run after an interruption store nothing twice.
func (a *app) importFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	counter := &countingReader{r: f}
	// The source is made first so that a file it cannot read (a bad CSV header)
	// stops the import before the database is even opened.
	src, err := newEventSource(path, counter)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	dbURL := a.cfg.DatabaseURL
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(a.cfg.DataDir, "accounthealth.db") // the dev database
	}
	st, err := a.openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	progress := newImportProgress(a.errOut, info.Size())
	stats, err := importEvents(ctx, st, src, func(s importStats) { progress.update(counter.n, s) })
	progress.done()
	fmt.Fprintf(a.out, "imported %s: %d lines, %d events accepted, %d duplicates (already stored), %d lines rejected\n",
		path, stats.lines, stats.accepted, stats.duplicates, len(stats.rejected))
	for i, r := range stats.rejected {
		if i == 100 {
			fmt.Fprintf(a.out, "  … and %d more\n", len(stats.rejected)-100)
			break
		}
		fmt.Fprintf(a.out, "  line %d: %s\n", r.line, r.problem)
	}
	if err != nil {
		return err
	}
	if len(stats.rejected) > 0 {
		return fmt.Errorf("%d lines rejected (listed above); the rest is stored, and a re-run stores nothing twice", len(stats.rejected))
	}
	return nil
}

// rawEvent is one event of an import file before validation: the JSON object POST
// /v1/events would take, or the problem that kept its line from becoming one.
type rawEvent struct {
	line    int // where the event starts in the file, from 1
	json    []byte
	problem string
}

// eventSource yields the events of an import file in file order, so that every
// format shares one validation, chunking and summary path. next returns io.EOF
// after the last event.
type eventSource interface {
	next() (rawEvent, error)
	// linesRead is how many lines of the file the events so far took.
	linesRead() int
}

// newEventSource picks the format by the file's extension: .csv is CSV, anything
// else NDJSON.
func newEventSource(path string, r io.Reader) (eventSource, error) {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return newCSVSource(r)
	}
	return newNDJSONSource(r), nil
}

// ndjsonSource reads one JSON event per line; blank lines count but carry nothing.
type ndjsonSource struct {
	sc    *bufio.Scanner
	lines int
}

func newNDJSONSource(r io.Reader) *ndjsonSource {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	return &ndjsonSource{sc: sc}
}

func (s *ndjsonSource) next() (rawEvent, error) {
	for s.sc.Scan() {
		s.lines++
		text := bytes.TrimSpace(s.sc.Bytes())
		if len(text) == 0 {
			continue
		}
		// The scanner reuses its buffer; the event outlives this call.
		return rawEvent{line: s.lines, json: bytes.Clone(text)}, nil
	}
	if err := s.sc.Err(); err != nil {
		return rawEvent{}, fmt.Errorf("read line %d: %w", s.lines+1, err)
	}
	return rawEvent{}, io.EOF
}

func (s *ndjsonSource) linesRead() int { return s.lines }

func importEvents(ctx context.Context, st *store.Store, src eventSource, progress func(importStats)) (importStats, error) {
	svc := &ingest.Service{Store: st}
	var stats importStats
	var chunk []json.RawMessage
	var lines []int // the line each event of the chunk starts on
	last := time.Now()
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		res, problems, err := svc.Import(ctx, chunk, time.Now())
		if err != nil {
			return err
		}
		stats.accepted += res.Accepted
		stats.duplicates += res.Duplicates
		stats.rejected = append(stats.rejected, rejections(problems, lines)...)
		chunk, lines = chunk[:0], lines[:0]
		return nil
	}
	for {
		raw, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return stats, err
		}
		stats.lines = src.linesRead()
		if time.Since(last) > 500*time.Millisecond {
			progress(stats)
			last = time.Now()
		}
		if raw.problem != "" {
			stats.rejected = append(stats.rejected, rejectedLine{raw.line, raw.problem})
			continue
		}
		chunk, lines = append(chunk, raw.json), append(lines, raw.line)
		if len(chunk) >= importChunk {
			if err := flush(); err != nil {
				return stats, err
			}
		}
	}
	stats.lines = src.linesRead()
	err := flush()
	sort.Slice(stats.rejected, func(i, j int) bool { return stats.rejected[i].line < stats.rejected[j].line })
	progress(stats)
	return stats, err
}

// rejections turns the problems of a chunk's events into one line each: "field
// problem; field problem", the event's own problem first.
func rejections(problems []ingest.Problem, lines []int) []rejectedLine {
	var out []rejectedLine
	for i := 0; i < len(problems); {
		j := i
		var parts []string
		for ; j < len(problems) && problems[j].Index == problems[i].Index; j++ {
			if p := problems[j]; p.Field == "" {
				parts = append(parts, p.Problem)
			} else {
				parts = append(parts, p.Field+" "+p.Problem)
			}
		}
		out = append(out, rejectedLine{lines[problems[i].Index], strings.Join(parts, "; ")})
		i = j
	}
	return out
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

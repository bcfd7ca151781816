// Package ingest takes the marketplace's events in, for POST /v1/events and
// `accounthealth import` alike: the wire format (a JSON object per event, read by
// a small scanner), the checks of every field, and the store's checks of what the
// events refer to. Problems come back as data, by the event's place in its batch.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// Problem is what is wrong with one event of a batch.
type Problem struct {
	Index   int    // the event's place in the batch, from 0
	Field   string // "" for the event as a whole
	Problem string
}

// Store is where events go.
type Store interface {
	Ingest(ctx context.Context, events []health.Event, receivedAt time.Time) (store.IngestResult, error)
}

// Service takes events in.
type Service struct {
	Store Store
}

// Batch decodes, checks and stores a batch all or nothing: one bad event rejects
// the batch with the problems of every bad event, and nothing is stored.
func (s *Service) Batch(ctx context.Context, raw []json.RawMessage, receivedAt time.Time) (store.IngestResult, []Problem, error) {
	events, problems := decodeAll(raw)
	if len(problems) > 0 {
		return store.IngestResult{}, problems, nil
	}
	res, err := s.Store.Ingest(ctx, events, receivedAt)
	var be *store.BatchError
	if errors.As(err, &be) {
		return store.IngestResult{}, batchProblems(be, func(i int) int { return i }), nil
	}
	return res, nil, err
}

// Import stores what it can of a batch: each bad event is left out, with its
// problems, and the rest is stored. A re-run stores nothing twice.
func (s *Service) Import(ctx context.Context, raw []json.RawMessage, receivedAt time.Time) (store.IngestResult, []Problem, error) {
	events, problems := decodeAll(raw)
	bad := map[int]bool{}
	for _, p := range problems {
		bad[p.Index] = true
	}
	var keep []health.Event
	var index []int // the batch index of each kept event
	for i, e := range events {
		if !bad[i] {
			keep, index = append(keep, e), append(index, i)
		}
	}
	for len(keep) > 0 {
		res, err := s.Store.Ingest(ctx, keep, receivedAt)
		var be *store.BatchError
		if !errors.As(err, &be) {
			sortProblems(problems)
			return res, problems, err
		}
		// Take the events the store refused out, and try the rest again.
		problems = append(problems, batchProblems(be, func(i int) int { return index[i] })...)
		var k []health.Event
		var ix []int
		for i := range keep {
			if _, refused := be.Problems[i]; !refused {
				k, ix = append(k, keep[i]), append(ix, index[i])
			}
		}
		keep, index = k, ix
	}
	sortProblems(problems)
	return store.IngestResult{}, problems, nil
}

// decodeAll decodes a batch on every core: a 10,000-event batch otherwise spends
// as long in decoding as the database spends storing it.
func decodeAll(raw []json.RawMessage) ([]health.Event, []Problem) {
	events := make([]health.Event, len(raw))
	found := make([]health.Problems, len(raw))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(raw)/500))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(raw); i += workers {
				events[i], found[i] = DecodeEvent(raw[i])
			}
		}()
	}
	wg.Wait()
	var problems []Problem
	for i, p := range found {
		for field, msg := range p {
			problems = append(problems, Problem{Index: i, Field: field, Problem: msg})
		}
	}
	sortProblems(problems)
	return events, problems
}

func batchProblems(be *store.BatchError, index func(int) int) []Problem {
	var out []Problem
	for i, p := range be.Problems {
		for field, msg := range p {
			out = append(out, Problem{Index: index(i), Field: field, Problem: msg})
		}
	}
	sortProblems(out)
	return out
}

func sortProblems(ps []Problem) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Index != ps[j].Index {
			return ps[i].Index < ps[j].Index
		}
		return ps[i].Field < ps[j].Field
	})
}

// Events counts the events a list of problems is about.
func Events(ps []Problem) int {
	seen := map[int]bool{}
	for _, p := range ps {
		seen[p.Index] = true
	}
	return len(seen)
}

package main

import (
	"strings"
	"testing"
	"time"
)

// TestImportProgressWithoutATerminal: written to a log or a pipe, progress is
// plain lines (no carriage returns or bar), at most one every few seconds and
// always the last, with the rate and the time left.
func TestImportProgressWithoutATerminal(t *testing.T) {
	var out strings.Builder
	p := newImportProgress(&out, 4<<20)
	if p.bar != nil {
		t.Fatal("a bar on something that is not a terminal")
	}
	t0 := time.Unix(1_000_000, 0)
	clock := t0
	p.start, p.now = t0, func() time.Time { return clock }
	steps := []struct {
		after time.Duration
		read  int64
	}{{time.Second, 1 << 20}, {2 * time.Second, 1<<20 + 10}, {4 * time.Second, 2 << 20}, {8 * time.Second, 4 << 20}}
	for i, s := range steps {
		clock = t0.Add(s.after)
		p.update(s.read, importStats{lines: 1000 * (i + 1), accepted: 990 * (i + 1), duplicates: i, rejected: make([]rejectedLine, i)})
	}
	p.done()
	want := "import:  25% (1.0 MiB of 4.0 MiB, 1.0 MiB/s, 3s left): 1000 lines, 990 accepted, 0 duplicates, 0 rejected\n" +
		"import: 100% (4.0 MiB of 4.0 MiB, 512.0 KiB/s, - left): 4000 lines, 3960 accepted, 3 duplicates, 3 rejected\n"
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant\n%s", out.String(), want)
	}
}

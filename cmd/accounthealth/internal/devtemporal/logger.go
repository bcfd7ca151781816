package devtemporal

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// levelOff is above any level the server uses.
const levelOff = slog.Level(1 << 20)

// logGate is the minimum level shared by a server's loggers. Stop turns it
// off: shutdown logs a burst of warnings and errors for calls cut short
// ("context canceled", "connection refused" from peers already gone), and some
// server goroutines (e.g. the parent-close-policy worker) are never stopped
// and would keep logging afterwards.
type logGate struct{ min atomic.Int64 }

func (g *logGate) set(l slog.Level)         { g.min.Store(int64(l)) }
func (g *logGate) allows(l slog.Level) bool { return int64(l) >= g.min.Load() }

// slogLogger adapts the server's log.Logger to slog. Debug and Info are
// dropped: the server logs several lines per second at those levels.
// Tags are converted only when a record is actually emitted, since With is
// called on hot paths.
type slogLogger struct {
	l    *slog.Logger
	gate *logGate
	tags []tag.Tag
}

var (
	_ log.Logger      = (*slogLogger)(nil)
	_ log.WithLogger  = (*slogLogger)(nil)
	_ log.SLogWrapper = (*slogLogger)(nil)
)

func newLogger(l *slog.Logger) *slogLogger {
	g := &logGate{}
	g.set(slog.LevelWarn)
	return &slogLogger{l: l, gate: g}
}

func (s *slogLogger) Debug(string, ...tag.Tag) {}
func (s *slogLogger) Info(string, ...tag.Tag)  {}

func (s *slogLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s *slogLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s *slogLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

func (s *slogLogger) Panic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}

// Fatal exits like the server's default zap logger does; callers rely on it
// not returning (e.g. after a failed listen).
func (s *slogLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	os.Exit(1)
}

func (s *slogLogger) With(tags ...tag.Tag) log.Logger {
	return &slogLogger{l: s.l, gate: s.gate, tags: append(slices.Clip(s.tags), tags...)}
}

// SLog lets log.NewSlogLogger hand slog-based components a WARN-filtered
// logger instead of formatting every Debug/Info record only to drop it.
func (s *slogLogger) SLog() *slog.Logger {
	return slog.New(gatedHandler{s.l.Handler(), s.gate}).With(attrs(s.tags, nil)...)
}

func (s *slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !s.gate.allows(level) || !s.l.Enabled(ctx, level) {
		return
	}
	// We run the frontend without its HTTP API on purpose; don't warn about it on every start.
	if strings.HasPrefix(msg, "HTTP API port has not been set") {
		return
	}
	s.l.Log(ctx, level, msg, attrs(s.tags, tags)...)
}

func attrs(a, b []tag.Tag) []any {
	out := make([]any, 0, len(a)+len(b))
	for _, ts := range [][]tag.Tag{a, b} {
		for _, t := range ts {
			out = append(out, slog.Any(t.Key(), t.Value()))
		}
	}
	return out
}

type gatedHandler struct {
	slog.Handler
	gate *logGate
}

func (h gatedHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.gate.allows(level) && h.Handler.Enabled(ctx, level)
}

func (h gatedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return gatedHandler{h.Handler.WithAttrs(as), h.gate}
}

func (h gatedHandler) WithGroup(name string) slog.Handler {
	return gatedHandler{h.Handler.WithGroup(name), h.gate}
}

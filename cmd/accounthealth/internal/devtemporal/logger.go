package devtemporal

import (
	"context"
	"log/slog"
	"os"
	"slices"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger adapts the server's log.Logger to slog. Debug and Info are
// dropped: the server logs several lines per second at those levels.
// Tags are converted only when a record is actually emitted, since With is
// called on hot paths.
type slogLogger struct {
	l    *slog.Logger
	tags []tag.Tag
}

var (
	_ log.Logger      = (*slogLogger)(nil)
	_ log.WithLogger  = (*slogLogger)(nil)
	_ log.SLogWrapper = (*slogLogger)(nil)
)

func newLogger(l *slog.Logger) *slogLogger { return &slogLogger{l: l} }

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
	return &slogLogger{l: s.l, tags: append(slices.Clip(s.tags), tags...)}
}

// SLog lets log.NewSlogLogger hand slog-based components a WARN-filtered
// logger instead of formatting every Debug/Info record only to drop it.
func (s *slogLogger) SLog() *slog.Logger {
	return slog.New(warnHandler{s.l.Handler()}).With(attrs(s.tags, nil)...)
}

func (s *slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
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

type warnHandler struct{ slog.Handler }

func (h warnHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h warnHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return warnHandler{h.Handler.WithAttrs(as)}
}

func (h warnHandler) WithGroup(name string) slog.Handler {
	return warnHandler{h.Handler.WithGroup(name)}
}

package telemetry

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// RequestIDKey is the name of a request's id in logs and Temporal headers.
const RequestIDKey = "request_id"

type requestIDKey struct{}

// WithRequestID is ctx carrying the id of the request it serves.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id of the request ctx serves, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ContextHandler adds the request id of a record's context to the record, so
// every line logged with a request's context (InfoContext and the like) names
// the request, whoever logs it.
type ContextHandler struct {
	slog.Handler
	named bool // the request id is among the handler's attributes already
}

func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil && !h.named {
		if id := RequestID(ctx); id != "" {
			r.AddAttrs(slog.String(RequestIDKey, id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h ContextHandler) WithAttrs(a []slog.Attr) slog.Handler {
	named := h.named
	for _, at := range a {
		named = named || at.Key == RequestIDKey
	}
	return ContextHandler{h.Handler.WithAttrs(a), named}
}

func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name), h.named}
}

type loggerKey struct{}

// WithLogger is ctx carrying the logger of its request (with the request id).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger is the logger of ctx's request, or fallback.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// RequestIDPropagator carries the request id from a request to the workflows and
// activities it starts, in their Temporal headers (client.Options.ContextPropagators).
type RequestIDPropagator struct{}

var _ workflow.ContextPropagator = RequestIDPropagator{}

func (RequestIDPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return inject(RequestID(ctx), w)
}

func (RequestIDPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return inject(id, w)
}

func inject(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(RequestIDKey, p)
	return nil
}

func extract(r workflow.HeaderReader) string {
	var id string
	if p, ok := r.Get(RequestIDKey); ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &id)
	}
	return id
}

func (RequestIDPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if id := extract(r); id != "" {
		ctx = WithRequestID(ctx, id)
	}
	return ctx, nil
}

func (RequestIDPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if id := extract(r); id != "" {
		ctx = workflow.WithValue(ctx, requestIDKey{}, id)
	}
	return ctx, nil
}

// LogInterceptor names the request id, when a workflow or activity carries one,
// on every line of workflow.GetLogger and activity.GetLogger (worker.Options.Interceptors).
type LogInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*LogInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityIn{interceptor.ActivityInboundInterceptorBase{Next: next}}
}

func (*LogInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowIn{interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type activityIn struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *activityIn) Init(out interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&activityOut{interceptor.ActivityOutboundInterceptorBase{Next: out}})
}

type activityOut struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (a *activityOut) GetLogger(ctx context.Context) tlog.Logger {
	l := a.Next.GetLogger(ctx)
	if id := RequestID(ctx); id != "" {
		return tlog.With(l, RequestIDKey, id)
	}
	return l
}

type workflowIn struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (w *workflowIn) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return w.Next.Init(&workflowOut{interceptor.WorkflowOutboundInterceptorBase{Next: out}})
}

type workflowOut struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (w *workflowOut) GetLogger(ctx workflow.Context) tlog.Logger {
	l := w.Next.GetLogger(ctx)
	if id, _ := ctx.Value(requestIDKey{}).(string); id != "" {
		return tlog.With(l, RequestIDKey, id)
	}
	return l
}

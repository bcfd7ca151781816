package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// MaxParallelShards bounds how many shards one evaluation runs at once, so a large
// sweep shares the database and the workers with everything else.
const MaxParallelShards = 8

var evaluationActivities *activities.Evaluation // method values only name the activities

// EvaluationWorkflow evaluates the sellers shard by shard, in parallel, each shard
// an activity, so more workers make it faster and a killed worker loses one shard.
func EvaluationWorkflow(ctx workflow.Context, in flow.EvaluationInput) (res flow.EvaluationResult, err error) {
	asOf := workflow.Now(ctx).UTC()
	trigger := "api"
	if in.EvaluationID == "" { // started by the sweep schedule: the plan records it
		in.EvaluationID, trigger = workflow.GetInfo(ctx).WorkflowExecution.ID, "schedule"
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    4 * activities.ShardHeartbeatEvery,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	defer func() {
		failure := ""
		if err != nil {
			failure = err.Error()
		}
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		if ferr := workflow.ExecuteActivity(dctx, evaluationActivities.Finish,
			flow.FinishInput{EvaluationID: in.EvaluationID, Failure: failure}).Get(dctx, nil); ferr != nil && err == nil {
			err = ferr
		}
	}()

	var shards []flow.Shard
	err = workflow.ExecuteActivity(ctx, evaluationActivities.Plan,
		flow.PlanInput{EvaluationID: in.EvaluationID, SellerIDs: in.SellerIDs, AsOf: asOf, Trigger: trigger}).Get(ctx, &shards)
	if err != nil {
		return res, err
	}
	mail := &mailer{}
	queueNews := workflow.GetVersion(ctx, changeQueuedNews, workflow.DefaultVersion, 1) == 1
	batched := workflow.GetVersion(ctx, changeMailBatch, workflow.DefaultVersion, 1) == 1
	err = fanOut(ctx, shards, func(sh flow.Shard) workflow.Future {
		return workflow.ExecuteActivity(ctx, evaluationActivities.EvaluateShard,
			flow.ShardInput{EvaluationID: in.EvaluationID, Shard: sh, AsOf: asOf, QueueNews: queueNews, MailBatch: batched})
	}, func(f workflow.Future) error {
		var r flow.ShardResult
		if err := f.Get(ctx, &r); err != nil {
			return err
		}
		res.Sellers += r.Sellers
		res.Breaches += r.Breaches
		mail.send(ctx, r.Mail)
		mail.sendBatch(ctx, r.MailBatch)
		return nil
	})
	if err == nil && queueNews {
		// Every shard's facts are stored; now the cases hear what changed.
		err = workflow.ExecuteActivity(ctx, evaluationActivities.TellCases, in.EvaluationID).Get(ctx, nil)
	}
	if werr := mail.wait(ctx); err == nil {
		err = werr
	}
	return res, err
}

// changeQueuedNews makes the shards queue what their cases are to be told, and
// tells them once every shard's facts are stored; evaluations recorded before it
// told each shard's cases inside the shard.
const changeQueuedNews = "queued-news"

// fanOut runs one activity per item, at most MaxParallelShards at once (a new one
// starts as soon as one finishes), and hands each outcome to collect; the first
// error stops new starts and is returned once those running have ended.
func fanOut[T any](ctx workflow.Context, items []T, start func(T) workflow.Future, collect func(workflow.Future) error) error {
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight := 0
	done := func(f workflow.Future) {
		inFlight--
		if err := collect(f); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for _, it := range items {
		for inFlight >= MaxParallelShards {
			sel.Select(ctx)
		}
		if firstErr != nil {
			break
		}
		inFlight++
		sel.AddFuture(start(it), done)
	}
	for inFlight > 0 {
		sel.Select(ctx)
	}
	return firstErr
}

// changeShardMail delivers the mail an evaluation's shards queue (program
// invitations); evaluations recorded before it queued none.
const changeShardMail = "shard-mail"

// mailer delivers batches of queued mail beside the work that queued them: a
// relay that is down for a while delays the mail, not the evaluation.
type mailer struct{ running int }

// deliveryOptions retry for about a day, as a case's mail does.
var deliveryOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	HeartbeatTimeout:    time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 10 * time.Minute, MaximumAttempts: 150},
}

func (m *mailer) send(ctx workflow.Context, keys []string) {
	if len(keys) == 0 || workflow.GetVersion(ctx, changeShardMail, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	m.deliver(ctx, caseActivities.DeliverAll, keys, "mails", len(keys))
}

// changeMailBatch makes a shard name its mail as a batch, delivered by
// DeliverBatch, instead of answering every key: with the keys in it, the history
// of a marketplace's first sweep (hundreds of invitations a shard) passed
// Temporal's 50 MB limit about 1,000 shards in, and the server terminated it.
// Evaluations recorded before it carry the keys.
const changeMailBatch = "mail-batch"

// changeBulkMailQueue delivers the batches on flow.BulkMailTaskQueue, whose
// worker sends a few at once; evaluations recorded before it deliver them on
// their own queue.
const changeBulkMailQueue = "bulk-mail-queue"

func (m *mailer) sendBatch(ctx workflow.Context, batch string) {
	if batch == "" {
		return
	}
	opts := deliveryOptions
	if workflow.GetVersion(ctx, changeBulkMailQueue, workflow.DefaultVersion, 1) == 1 {
		opts.TaskQueue = flow.BulkMailTaskQueue
	}
	m.deliverWith(ctx, opts, caseActivities.DeliverBatch, batch, "batch", batch)
}

func (m *mailer) deliver(ctx workflow.Context, activity, arg any, about ...any) {
	m.deliverWith(ctx, deliveryOptions, activity, arg, about...)
}

func (m *mailer) deliverWith(ctx workflow.Context, opts workflow.ActivityOptions, activity, arg any, about ...any) {
	m.running++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { m.running-- }()
		dctx := workflow.WithActivityOptions(ctx, opts)
		if err := workflow.ExecuteActivity(dctx, activity, arg).Get(dctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("mail not delivered; it stays in the outbox with its error", append(about, "error", err)...)
		}
	})
}

// wait lets the deliveries end before the workflow does.
func (m *mailer) wait(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return m.running == 0 })
}

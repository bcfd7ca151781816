package activities

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/templates"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Standing holds the activities of the rewarding side: the quarterly tier
// evaluation, and the programs' invitations and revocations.
type Standing struct {
	Store     *store.Store
	Policy    health.Policy
	PublicURL string
}

// PlanTiers cuts every seller into shards; for a scheduled run it first records
// the evaluation (once, even when retried).
func (a *Standing) PlanTiers(ctx context.Context, in flow.TierPlanInput) ([]flow.Shard, error) {
	if in.Trigger == "schedule" {
		if _, err := a.Store.CreateTierEvaluation(ctx, in.EvaluationID, in.Quarter, in.Trigger); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	shards, err := a.Store.PlanTierShards(ctx, in.EvaluationID, a.Policy.Evaluation.ShardSize)
	out := make([]flow.Shard, len(shards))
	for i, sh := range shards {
		out[i] = flow.Shard{From: sh.From, To: sh.To, IDs: sh.IDs}
	}
	return out, err
}

// EvaluateTierShard places every seller of a shard in a tier for the quarter,
// revokes the program members who no longer meet a program's criteria over its
// window ending with the quarter, and queues the mail of every change, in one
// transaction. Evaluated again, the quarter writes the same and mails nothing new.
func (a *Standing) EvaluateTierShard(ctx context.Context, in flow.TierShardInput) (flow.TierShardResult, error) {
	defer keepAlive(ctx, ShardHeartbeatEvery)()
	q, err := health.ParseQuarter(in.Quarter)
	if err != nil {
		return flow.TierShardResult{}, temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrPermanent, err)
	}
	sh := store.Shard{From: in.Shard.From, To: in.Shard.To, IDs: in.Shard.IDs}
	ids, counts, err := a.Store.WindowCounts(ctx, sh, q.Start(), q.End())
	if err != nil {
		return flow.TierShardResult{}, err
	}
	current, before, err := a.Store.TiersHeld(ctx, ids, q.String())
	if err != nil {
		return flow.TierShardResult{}, err
	}
	sellers, err := a.Store.SellersByID(ctx, ids)
	if err != nil {
		return flow.TierShardResult{}, err
	}
	now := time.Now().UTC()
	res := flow.TierShardResult{Sellers: len(ids)}
	// A quarter evaluated again changes nothing it recorded, but a change whose
	// mail was queued and not yet sent (a write retried after its commit) is
	// handed over again for delivery.
	var again []string
	for id, row := range current {
		if row.Tier != row.Previous {
			again = append(again, tierMailKey(id, q.String(), row.Tier))
		}
	}
	unsent, err := a.Store.UnsentMail(ctx, again)
	if err != nil {
		return res, err
	}
	var changes []store.TierChange
	for _, id := range ids {
		st := a.Policy.Tiers.Judge(counts[id], q.End())
		doc, err := json.Marshal(st)
		if err != nil {
			return res, err
		}
		// The tier held before this evaluation: the quarter's own, when it is
		// evaluated again (keeping the change it recorded, when the tier is the
		// same), or the latest quarter's before it.
		c := store.TierChange{Tier: store.SellerTier{SellerID: id, Quarter: q.String(), Tier: st.Tier,
			Standing: string(doc), EvaluationID: in.EvaluationID, EvaluatedAt: now}}
		prev := before[id]
		if prev == "" {
			prev = health.StartTier
		}
		if row, again := current[id]; again {
			prev = row.Tier
			if row.Tier == st.Tier {
				prev = row.Previous
			}
			c.Unchanged = row.Tier == st.Tier && row.Standing == string(doc)
		}
		c.Tier.Previous = prev
		if st.Tier != prev && (!c.Unchanged || unsent[tierMailKey(id, q.String(), st.Tier)]) {
			if !c.Unchanged {
				res.Changed++
			}
			c.Ledger = &store.LedgerEntry{SellerID: id, Key: "tier/" + q.String() + "/" + st.Tier, At: q.End(),
				Cause: health.TierCause(q.String(), prev, st.Tier)}
			data := a.standingData(sellers[id], q.String())
			data.Tier, data.PreviousTier, data.Criteria = st.Tier, prev, mailCriteria(st.Criteria)
			if l, _, ok := a.Policy.Tiers.Level(st.Tier); ok {
				data.Benefits = l.Benefits
			}
			if st.Next != nil {
				data.NextTier = st.Next.Tier
				for _, g := range st.Next.Gaps {
					data.Gaps = append(data.Gaps, templates.Gap{Advice: g.Advice})
				}
			}
			if c.Mail, err = standingMail(templates.TierChanged, tierMailKey(id, q.String(), st.Tier), sellers[id], data, now); err != nil {
				return res, err
			}
		}
		changes = append(changes, c)
	}
	revoked, err := a.revocations(ctx, sh, ids, sellers, q, now)
	if err != nil {
		return res, err
	}
	batch := ""
	if in.MailBatch {
		batch = mailBatch("tiers/"+in.EvaluationID, in.Shard)
		for _, c := range changes {
			inBatch(batch, c.Mail)
		}
		for _, c := range revoked {
			inBatch(batch, c.Mail)
		}
	}
	keys, err := a.Store.SaveTierShard(ctx, in.EvaluationID, changes, revoked)
	if err != nil {
		return res, err
	}
	res.Mail, res.MailBatch = mailToDeliver(ctx, batch, keys)
	return res, nil
}

func tierMailKey(seller, quarter, tier string) string {
	return "tier/" + seller + "/" + quarter + "/" + tier
}

// revocations are the members of a program who no longer meet its criteria over
// its window ending with quarter q.
func (a *Standing) revocations(ctx context.Context, sh store.Shard, ids []string, sellers map[string]store.Seller, q health.Quarter, now time.Time) ([]store.ProgramChange, error) {
	rows, err := a.Store.Programs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []store.ProgramChange
	for _, p := range a.Policy.Programs {
		var members []string
		for _, id := range ids {
			if rows[id][p.Name].Status == store.ProgramAccepted {
				members = append(members, id)
			}
		}
		if len(members) == 0 {
			continue
		}
		// Only members can be revoked: count their orders alone.
		_, counts, err := a.Store.WindowCounts(ctx, store.Shard{IDs: members}, q.End().Add(-p.Window()), q.End())
		if err != nil {
			return nil, err
		}
		for _, id := range members {
			row := rows[id][p.Name]
			ok, cs := p.Judge(counts[id])
			if ok {
				continue
			}
			doc, err := json.Marshal(cs)
			if err != nil {
				return nil, err
			}
			row.Status, row.Criteria, row.RevokedAt, row.UpdatedAt = store.ProgramRevoked, string(doc), &now, now
			data := a.standingData(sellers[id], q.String())
			data.Program, data.ProgramTitle, data.WindowDays, data.Criteria = p.Name, p.Title, p.WindowDays, mailCriteria(cs)
			data.ProgramURL = a.PublicURL + "/v1/sellers/" + id + "/programs/" + p.Name
			m, err := standingMail(templates.ProgramRevoked, "program/"+id+"/"+p.Name+"/revoked/"+q.String(), sellers[id], data, now)
			if err != nil {
				return nil, err
			}
			out = append(out, store.ProgramChange{Program: row, Mail: m})
		}
	}
	return out, nil
}

// invite invites once, by mail, every seller of a shard who newly meets every
// criterion of a program over its window ending at asOf, and answers the keys of
// the mail queued (in batch, unless it is ""). It runs with every evaluation, so
// it counts the orders of only the sellers a program could invite: not those
// invited before, members or sellers who declined (after a marketplace's first
// sweep, almost everyone).
func (a *Standing) invite(ctx context.Context, sh store.Shard, asOf time.Time, batch string) ([]string, error) {
	if len(a.Policy.Programs) == 0 {
		return nil, nil
	}
	ids, err := a.Store.ShardSellers(ctx, sh)
	if err != nil {
		return nil, err
	}
	rows, err := a.Store.Programs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var changes []store.ProgramChange
	var sellers map[string]store.Seller
	for _, p := range a.Policy.Programs {
		open := Invitable(ids, rows, p.Name)
		if len(open) == 0 {
			continue
		}
		_, counts, err := a.Store.WindowCounts(ctx, store.Shard{IDs: open}, asOf.Add(-p.Window()), asOf)
		if err != nil {
			return nil, err
		}
		for _, id := range open {
			ok, cs := p.Judge(counts[id])
			if !ok {
				continue
			}
			if sellers == nil {
				if sellers, err = a.Store.SellersByID(ctx, ids); err != nil {
					return nil, err
				}
			}
			doc, err := json.Marshal(cs)
			if err != nil {
				return nil, err
			}
			now := time.Now().UTC()
			data := a.standingData(sellers[id], "")
			data.Program, data.ProgramTitle, data.WindowDays, data.Criteria = p.Name, p.Title, p.WindowDays, mailCriteria(cs)
			data.ProgramURL = a.PublicURL + "/v1/sellers/" + id + "/programs/" + p.Name
			m, err := standingMail(templates.ProgramInvited, "program/"+id+"/"+p.Name+"/invited/"+asOf.UTC().Format(time.RFC3339), sellers[id], data, now)
			if err != nil {
				return nil, err
			}
			inBatch(batch, m)
			changes = append(changes, store.ProgramChange{Program: store.SellerProgram{SellerID: id, Program: p.Name,
				Status: store.ProgramInvited, Criteria: string(doc), InvitedAt: &now, UpdatedAt: now}, Mail: m})
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	return a.Store.SaveProgramChanges(ctx, changes)
}

// Invitable are the sellers among ids whom program could invite, by what they
// hold (rows, from Store.Programs): never invited, or revoked (a revoked member
// is invited again when eligible again). Invited, members and those who declined
// are invited once.
func Invitable(ids []string, rows map[string]map[string]store.SellerProgram, program string) []string {
	var out []string
	for _, id := range ids {
		if row, seen := rows[id][program]; !seen || row.Status == store.ProgramRevoked {
			out = append(out, id)
		}
	}
	return out
}

// FinishTiers marks the tier evaluation completed or failed.
func (a *Standing) FinishTiers(ctx context.Context, in flow.FinishInput) error {
	return a.Store.FinishTierEvaluation(ctx, in.EvaluationID, in.Failure)
}

func (a *Standing) standingData(sel store.Seller, quarter string) templates.MailData {
	return templates.MailData{SellerID: sel.ID, SellerName: sel.Name, DashboardURL: a.PublicURL + "/", Quarter: quarter}
}

func mailCriteria(cs []health.Criterion) []templates.Criterion {
	out := make([]templates.Criterion, len(cs))
	for i, c := range cs {
		out[i] = templates.Criterion{Metric: string(c.Metric), Value: c.Value, Numerator: c.Numerator, Denominator: c.Denominator,
			Op: string(c.Threshold.Op), Target: c.Threshold.Value, Met: c.Met}
	}
	return out
}

// standingMail renders a mail about a seller's standing, to the seller.
func standingMail(name, key string, sel store.Seller, data templates.MailData, at time.Time) (*store.OutboxMail, error) {
	r, err := templates.Render(name, data)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	to, err := json.Marshal([]string{sel.Email})
	if err != nil {
		return nil, err
	}
	return &store.OutboxMail{Key: key, Template: name, Recipients: string(to), Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML, CreatedAt: at}, nil
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/store"
)

// sweepSteps runs the sweep's store work for every shard one after another,
// outside Temporal, and times each step: what the metrics query, storing the
// shard and the program invitations' counts cost, against the sweep through
// Temporal (which runs several shards at once).
func sweepSteps(ctx context.Context, e *env, id string) (string, error) {
	if _, err := e.store.CreateEvaluation(ctx, id, "bench", nil); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	start := time.Now()
	shards, err := e.store.PlanShards(ctx, id, nil, e.policy.Evaluation.ShardSize, now)
	if err != nil {
		return "", err
	}
	plan := time.Since(start)
	var compute, save, programs, counts time.Duration
	counted, countShards := 0, 0
	for _, sh := range shards {
		t := time.Now()
		res, err := e.store.ComputeMetrics(ctx, sh, now, e.policy)
		if err != nil {
			return "", err
		}
		compute += time.Since(t)
		t = time.Now()
		if _, err := e.store.SaveShard(ctx, id, now, res); err != nil {
			return "", err
		}
		save += time.Since(t)
		t = time.Now()
		// The invitations' counts, as the sweep makes them: of the sellers a
		// program could still invite by what the store holds now
		// (activities.Invitable). Nothing is invited here.
		ids, err := e.store.ShardSellers(ctx, sh)
		if err != nil {
			return "", err
		}
		held, err := e.store.Programs(ctx, ids)
		if err != nil {
			return "", err
		}
		c, some := time.Now(), false
		for _, p := range e.policy.Programs {
			if open := activities.Invitable(ids, held, p.Name); len(open) > 0 {
				if _, _, err := e.store.WindowCounts(ctx, store.Shard{IDs: open}, now.Add(-p.Window()), now); err != nil {
					return "", err
				}
				counted += len(open)
				some = true
			}
		}
		if some { // a shard counted for several programs is one shard
			counts += time.Since(c)
			countShards++
		}
		programs += time.Since(t)
	}
	// The program counts split: reading who a program could invite (every
	// shard) and counting their orders (only shards with such sellers).
	return fmt.Sprintf("steps one shard at a time, no Temporal (%d shards of %d sellers): plan %.2f s, metrics %.2f s, store %.2f s, program counts %.2f s (of which counting the orders of %d sellers a program could still invite, in %d of the shards, %.2f s), total %.2f s",
		len(shards), e.policy.Evaluation.ShardSize, plan.Seconds(), compute.Seconds(), save.Seconds(), programs.Seconds(),
		counted, countShards, counts.Seconds(), time.Since(start).Seconds()), nil
}

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/accounthealth/accounthealth/workflows/flow"
)

// temporalSetup prepares a Temporal namespace for the workers: it registers the
// search attributes the case workflows set. Safe to run again: it adds only what
// is missing.
func (a *app) temporalSetup(ctx context.Context) error {
	c, err := a.dialTemporal(ctx, a.cfg.TemporalAddress)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	added, err := flow.EnsureSearchAttributes(ctx, c.OperatorService(), a.cfg.Namespace)
	if err != nil {
		return err
	}
	if len(added) == 0 {
		fmt.Fprintf(a.out, "namespace %s has every search attribute the workflows set\n", a.cfg.Namespace)
	} else {
		fmt.Fprintf(a.out, "namespace %s: added the search attributes %s\n", a.cfg.Namespace, strings.Join(added, ", "))
	}
	return nil
}

// checkSearchAttributes makes sure the namespace knows the search attributes
// before the worker runs cases: a case that sets an unknown one is stuck (its
// workflow task fails over and over). dev adds them itself; serve and worker
// ask for `accounthealth temporal-setup`. When the list cannot be read (an API
// key without that permission) the worker starts and says so.
func (a *app) checkSearchAttributes(c client.Client, add bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if add {
		_, err := flow.EnsureSearchAttributes(ctx, c.OperatorService(), a.cfg.Namespace)
		return err
	}
	missing, err := flow.MissingSearchAttributes(ctx, c.OperatorService(), a.cfg.Namespace)
	if err != nil {
		a.log.Warn("could not check the namespace's search attributes; cases stall if they are missing", "error", err)
		return nil
	}
	if len(missing) > 0 {
		return fmt.Errorf("namespace %s lacks the search attributes %s: run `accounthealth temporal-setup` once (or add them as Keyword attributes in Temporal Cloud)",
			a.cfg.Namespace, strings.Join(missing, ", "))
	}
	return nil
}

//go:build nodev

package main

import (
	"context"
	"errors"
)

// dev needs the embedded Temporal server, which this build left out (-tags nodev).
func (a *app) dev(context.Context) error {
	return errors.New("this build has no embedded Temporal server; use the full build (go build without -tags nodev) or go run ./cmd/accounthealth dev")
}

// Command check loads deploy/compose.yaml with the Compose Specification's own
// loader (the one docker compose uses), so a file that compose would refuse fails
// CI here, where there is no Docker engine. It is a module of its own, so its
// dependencies stay out of the application's go.mod.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: check COMPOSE_FILE")
		os.Exit(2)
	}
	ctx := context.Background()
	opts, err := cli.NewProjectOptions([]string{os.Args[1]},
		// compose.yaml requires AH_ADMIN_KEY (${AH_ADMIN_KEY:?...}); give it one.
		cli.WithEnv([]string{"AH_ADMIN_KEY=check-admin-key-0123456789"}),
		cli.WithName("accounthealth"))
	if err != nil {
		fail(err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		fail(err)
	}
	want := []string{"migrate", "postgres", "serve", "temporal", "temporal-setup", "temporal-ui", "worker", "mailpit"}
	for _, name := range want {
		if _, ok := p.Services[name]; !ok {
			fail(fmt.Errorf("service %s is missing", name))
		}
	}
	for _, name := range []string{"serve", "worker"} {
		env := p.Services[name].Environment
		for _, v := range []string{"AH_PUBLIC_URL", "AH_DATABASE_URL", "AH_TEMPORAL_ADDRESS", "AH_SMTP_URL"} {
			if env[v] == nil || *env[v] == "" {
				fail(fmt.Errorf("service %s lacks %s", name, v))
			}
		}
		if p.Services[name].HealthCheck == nil {
			fail(fmt.Errorf("service %s has no health check", name))
		}
	}
	names := p.ServiceNames()
	slices.Sort(names)
	fmt.Printf("compose.yaml loads: %d services %v\n", len(names), names)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose.yaml:", err)
	os.Exit(1)
}

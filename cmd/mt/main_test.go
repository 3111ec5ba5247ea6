package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// readOnly are the commands that never send a transaction (serve-actions
// serves unsigned transactions for wallets to sign; it sends none itself).
// keygen, address, airdrop and warp send none either (an airdrop is the
// faucet's transaction; warp is a local chain's RPC method).
var readOnly = map[string]bool{"show": true, "list": true, "spec-template": true, "quote": true, "serve-actions": true,
	"keygen": true, "address": true, "airdrop": true, "warp": true}

// Every command prints JSON on request; every command that sends a
// transaction can be dry-run and given a priority fee.
func TestEveryCommandHasTheConventions(t *testing.T) {
	app := newApp()
	var walk func(path string, cmds []*cli.Command)
	leaves := 0
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(path + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(name, c.Subcommands)
				continue
			}
			leaves++
			has := map[string]bool{}
			for _, f := range c.Flags {
				for _, n := range f.Names() {
					has[n] = true
				}
			}
			if c.Name == "spec-template" {
				continue // prints a file, not a result
			}
			for _, want := range []string{"output", "url", "keypair", "commitment"} {
				if !has[want] {
					t.Errorf("mt %s has no --%s", name, want)
				}
			}
			if !readOnly[c.Name] && (!has["dry-run"] || !has["with-compute-unit-price"]) {
				t.Errorf("mt %s sends a transaction but has no --dry-run / --with-compute-unit-price", name)
			}
			if c.Action == nil {
				t.Errorf("mt %s does nothing", name)
			}
		}
	}
	walk("", app.Commands)
	if leaves < 30 {
		t.Errorf("only %d commands", leaves)
	}
}

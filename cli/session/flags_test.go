package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/argv"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// A common flag may be given before the command, after it, or after its
// arguments; the innermost wins.
func TestCommonFlagsAnywhere(t *testing.T) {
	var got *Session
	var gotArgs []string
	app := &cli.App{
		Name:  "mt",
		Flags: CommonFlags(),
		Commands: []*cli.Command{{
			Name: "model",
			Subcommands: []*cli.Command{{
				Name:  "finalize",
				Flags: WriteFlags(),
				Action: func(c *cli.Context) error {
					s, err := FromContext(c)
					got, gotArgs = s, c.Args().Slice()
					return err
				},
			}},
		}},
		Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{},
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		line     string
		url      string
		keypair  string
		json     bool
		dryRun   bool
		priority uint64
	}{
		{"mt model finalize 3", cluster.DefaultURL, home + "/.config/solana/id.json", false, false, 0},
		{"mt -u devnet model finalize 3", "https://api.devnet.solana.com", home + "/.config/solana/id.json", false, false, 0},
		{"mt model finalize 3 -u devnet -o json --dry-run", "https://api.devnet.solana.com", home + "/.config/solana/id.json", true, true, 0},
		{"mt --url devnet model finalize --url http://127.0.0.1:9 3 -k /tmp/k.json --priority-fee 7", "http://127.0.0.1:9", "/tmp/k.json", false, false, 7},
		{"mt --output json model finalize 3 --with-compute-unit-price 100", cluster.DefaultURL, home + "/.config/solana/id.json", true, false, 100},
	}
	for _, tt := range tests {
		got = nil
		if err := app.Run(argv.Reorder(app, strings.Fields(tt.line))); err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		if got.Config.URL != tt.url || got.Config.KeypairPath != tt.keypair || got.Out.JSON() != tt.json ||
			got.DryRun != tt.dryRun || got.PriorityMicroLamports != tt.priority || len(gotArgs) != 1 || gotArgs[0] != "3" {
			t.Errorf("%s: url=%s keypair=%s json=%v dry=%v priority=%d args=%q", tt.line, got.Config.URL, got.Config.KeypairPath,
				got.Out.JSON(), got.DryRun, got.PriorityMicroLamports, gotArgs)
		}
		if ctx, asJSON := Explain(app); ctx.URL != tt.url || asJSON != tt.json {
			t.Errorf("%s: explain context %+v json=%v", tt.line, ctx, asJSON)
		}
	}
}

func TestArgsSaysTheUsage(t *testing.T) {
	app := &cli.App{Name: "mt", Commands: []*cli.Command{{
		Name: "show",
		Action: func(c *cli.Context) error {
			_, err := Args(c, "model-id")
			return err
		},
	}}, Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{}}
	err := app.Run([]string{"mt", "show"})
	p, ok := err.(*explain.Problem)
	if !ok || !strings.Contains(p.What, "expected 1 argument") || !strings.Contains(p.Fix, "<model-id>") {
		t.Fatalf("missing argument: %#v", err)
	}
	if err := app.Run([]string{"mt", "show", "1", "2"}); err == nil {
		t.Fatal("extra argument accepted")
	}
	if err := app.Run([]string{"mt", "show", "1"}); err != nil {
		t.Fatal(err)
	}
}

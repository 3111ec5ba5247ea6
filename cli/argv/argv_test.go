package argv

import (
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func testApp() *cli.App {
	leafFlags := func() []cli.Flag {
		return []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}},
			&cli.BoolFlag{Name: "dry-run"},
			&cli.Uint64Flag{Name: "with-compute-unit-price"},
		}
	}
	return &cli.App{
		Name:  "mt",
		Flags: []cli.Flag{&cli.StringFlag{Name: "url", Aliases: []string{"u"}}, &cli.BoolFlag{Name: "verbose"}},
		Commands: []*cli.Command{{
			Name: "model",
			Subcommands: []*cli.Command{
				{Name: "show", Flags: leafFlags()},
				{Name: "launch", Flags: leafFlags()},
			},
		}, {Name: "version"}},
	}
}

func TestReorder(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mt", "mt"},
		{"mt model show 3", "mt model show -- 3"},
		{"mt model show 3 --output json", "mt model show --output json -- 3"},
		{"mt model show 3 -o json --dry-run", "mt model show -o json --dry-run -- 3"},
		{"mt -u localnet model show 3 --output=json", "mt -u localnet model show --output=json -- 3"},
		{"mt --verbose model show 3", "mt --verbose model show -- 3"},
		{"mt model show --output json 3", "mt model show --output json -- 3"},
		{"mt model launch -5 --dry-run", "mt model launch --dry-run -- -5"},
		{"mt model show 3 -- --output json", "mt model show -- 3 --output json"},
		{"mt model show 3 --unknown x", "mt model show --unknown -- 3 x"},
		{"mt model show --help", "mt model show --help"},
		{"mt model --help", "mt model --help"},
		{"mt model nosuch 3 --output json", "mt model nosuch 3 --output json"},
		{"mt version", "mt version"},
		{"mt -- model", "mt -- model"},
	}
	for _, tt := range tests {
		got := Reorder(testApp(), strings.Fields(tt.in))
		if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
			t.Errorf("Reorder(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

// The reordered line parses as intended.
func TestReorderedArgsParse(t *testing.T) {
	app := testApp()
	var gotOutput string
	var gotArgs []string
	app.Commands[0].Subcommands[0].Action = func(c *cli.Context) error {
		gotOutput, gotArgs = c.String("output"), c.Args().Slice()
		return nil
	}
	if err := app.Run(Reorder(app, strings.Fields("mt model show 3 --output json"))); err != nil {
		t.Fatal(err)
	}
	if gotOutput != "json" || !reflect.DeepEqual(gotArgs, []string{"3"}) {
		t.Fatalf("output=%q args=%q", gotOutput, gotArgs)
	}
}

func TestFlagValue(t *testing.T) {
	for line, want := range map[string]string{
		"mt model show 3 -o json":               "json",
		"mt --output=json-compact model show":   "json-compact",
		"mt -o json model show --output text 3": "text",
		"mt model show 3":                       "",
		"mt model show -- -o json":              "",
	} {
		if got := FlagValue(strings.Fields(line), "output", "o"); got != want {
			t.Errorf("FlagValue(%q) = %q, want %q", line, got, want)
		}
	}
}

// FuzzReorder checks Reorder never panics and never drops, adds (other
// than one "--") or changes a token.
func FuzzReorder(f *testing.F) {
	for _, s := range []string{"mt model show 3 --output json", "mt -u x model launch -5 --dry-run", "mt model show -- -o", "mt", "mt --output"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"mt"}, strings.Fields(line)...)
		got := Reorder(testApp(), args)
		count := map[string]int{}
		for _, a := range args {
			count[a]++
		}
		for _, g := range got {
			count[g]--
		}
		extra := 0
		for tok, n := range count {
			if tok == "--" && n == -1 {
				extra++
				continue
			}
			if n != 0 {
				t.Fatalf("Reorder(%q) = %q: token %q off by %d", args, got, tok, n)
			}
		}
		if len(got) != len(args)+extra {
			t.Fatalf("Reorder(%q) = %q", args, got)
		}
	})
}

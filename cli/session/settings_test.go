package session

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestSettings(t *testing.T) {
	flags := []cli.Flag{
		&cli.Uint64Flag{Name: "fee-bps", Value: 30},
		&cli.StringFlag{Name: "stake", Value: "100"},
		&cli.StringFlag{Name: "notice", Value: "1d"},
	}
	run := func(defaults bool, args ...string) (fee uint16, stake uint64, notice int64, f *Settings) {
		app := &cli.App{Flags: flags, Action: func(c *cli.Context) error {
			f = &Settings{C: c, Defaults: defaults}
			fee = f.Bps("fee-bps", 7)
			stake = f.Amount("stake", 8, 2, "native tokens")
			notice = f.Period("notice", 9, 3600)
			return nil
		}}
		if err := app.Run(append([]string{"mt"}, args...)); err != nil {
			t.Fatal(err)
		}
		return fee, stake, notice, f
	}

	// Defaults: every flag is read, given or not.
	if fee, stake, notice, f := run(true); fee != 30 || stake != 10000 || notice != 86400 || f.Given || f.Problems.Err() != nil {
		t.Errorf("defaults: %d %d %d %+v", fee, stake, notice, f)
	}
	// Otherwise a flag not given keeps the current value.
	if fee, stake, notice, f := run(false); fee != 7 || stake != 8 || notice != 9 || f.Given || f.Problems.Err() != nil {
		t.Errorf("unset: %d %d %d %+v", fee, stake, notice, f)
	}
	if fee, stake, notice, f := run(false, "--fee-bps", "40"); fee != 40 || stake != 8 || notice != 9 || !f.Given {
		t.Errorf("one set: %d %d %d %+v", fee, stake, notice, f)
	}
	// Every problem is collected.
	_, _, _, f := run(false, "--fee-bps", "10001", "--stake", "1.001", "--notice", "59m")
	if len(f.Problems) != 3 || !strings.Contains(f.Problems[0], "--fee-bps 10001 is above 10000") ||
		!strings.Contains(f.Problems[1], "--stake") || !strings.Contains(f.Problems[2], "--notice 59m is shorter") {
		t.Errorf("problems: %q", f.Problems)
	}
}

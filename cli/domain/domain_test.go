package domain

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/argv"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// run runs `mt domain <args>` against a cluster nobody listens on: an input
// refused before any network call comes back as the explained problem,
// while anything that reached for the chain would fail to connect instead.
func run(t *testing.T, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	app := &cli.App{Name: "mt", Commands: []*cli.Command{Command()}, Writer: &out, ErrWriter: &out, ExitErrHandler: func(*cli.Context, error) {}}
	base := []string{"mt", "domain"}
	full := append(append(base, args...), "--url", "http://127.0.0.1:1", "--keypair", t.TempDir()+"/none.json")
	err := app.RunContext(context.Background(), argv.Reorder(app, full))
	if out.Len() > 0 && err == nil {
		t.Logf("output: %s", out.String())
	}
	return err
}

// refused requires a one-line explained problem holding each of want.
func refused(t *testing.T, err error, want ...string) {
	t.Helper()
	var p *explain.Problem
	if !errors.As(err, &p) {
		t.Fatalf("got %v, want an explained problem (nothing sent)", err)
	}
	if strings.Contains(p.What, "\n") && !strings.HasPrefix(p.What, "invalid arguments:") {
		t.Errorf("problem spans lines: %q", p.What)
	}
	text := p.What + " | " + p.Fix
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%q does not say %q", text, w)
		}
	}
	if strings.Contains(text, "connect") || strings.Contains(text, "127.0.0.1:1") {
		t.Errorf("the command reached for the network before refusing: %q", text)
	}
}

func TestBadInputIsRefusedBeforeAnythingIsSent(t *testing.T) {
	op := solana.NewWallet().PublicKey().String()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"create without its terms", []string{"create", "alpha"}, []string{"--bond is required", "--fee-bps is required"}},
		{"create without a name", []string{"create", "--bond", "1", "--fee-bps", "100"}, []string{"expected 1 argument"}},
		{"create with a space in the name", []string{"create", "my domain", "--bond", "1", "--fee-bps", "100"}, []string{"printable ASCII without spaces"}},
		{"create with a 33-byte name", []string{"create", strings.Repeat("n", 33), "--bond", "1", "--fee-bps", "100"}, []string{"1 to 32 bytes"}},
		{"create with a fee above 100%", []string{"create", "alpha", "--bond", "1", "--fee-bps", "10001"}, []string{"above 10000"}},
		{"create with a fee that is not a number", []string{"create", "alpha", "--bond", "1", "--fee-bps", "10%"}, []string{"not a whole number"}},
		{"create with a negative notice", []string{"create", "alpha", "--bond", "1", "--fee-bps", "100", "--notice", "0s"}, []string{"not positive"}},
		{"create with a notice that is no span", []string{"create", "alpha", "--bond", "1", "--fee-bps", "100", "--notice", "soon"}, []string{"not a span"}},
		{"set-fee above 100%", []string{"set-fee", "alpha", "20000"}, []string{"above 10000"}},
		{"set-fee with a bad operator", []string{"set-fee", "nobody/alpha", "10"}, []string{"not an address"}},
		{"join with a bad name", []string{"join", op + "/has space"}, []string{"without spaces"}},
		{"admit without a node", []string{"admit", "alpha"}, []string{"expected 2 argument"}},
		{"remove with too many arguments", []string{"remove", "alpha", op, "extra"}, []string{"expected 2 argument"}},
		{"leave with no domain", []string{"leave"}, []string{"expected 1 argument"}},
		{"show with an empty name", []string{"show", ""}, []string{"1 to 32 bytes"}},
		{"list with a bad operator", []string{"list", "--operator", "bob"}, []string{"not an address"}},
	} {
		t.Run(tc.name, func(t *testing.T) { refused(t, run(t, tc.args...), tc.want...) })
	}
}

func TestDomainReferences(t *testing.T) {
	op := solana.NewWallet().PublicKey()
	r, err := parseDomainRef(op.String() + "/alpha")
	if err != nil || !r.resolved || !r.addr.Equals(pda.Domain(op, "alpha")) {
		t.Fatalf("operator/name: %+v %v", r, err)
	}
	r, err = parseDomainRef("alpha")
	if err != nil || r.resolved {
		t.Fatalf("a bare name is the signer's domain: %+v %v", r, err)
	}
	addr, err := r.address(func() (solana.PrivateKey, error) { return nil, errors.New("no signer") })
	if err == nil {
		t.Fatalf("a bare name needs the signer, got %s", addr)
	}
	d := pda.Domain(op, "x")
	if r, err = parseDomainRef(d.String()); err != nil || !r.addr.Equals(d) {
		t.Fatalf("address: %+v %v", r, err)
	}
}

// fakeChain is a rawReader over a map of accounts owned by the meter.
type fakeChain map[solana.PublicKey][]byte

func (f fakeChain) raw(_ context.Context, addr solana.PublicKey) ([]byte, solana.PublicKey, bool, error) {
	data, ok := f[addr]
	return data, im.ProgramID, ok, nil
}

func TestReadDomainRefusesWhatIsNotADomain(t *testing.T) {
	op := solana.NewWallet().PublicKey()
	d := im.Domain{Operator: op, Name: "alpha", FeeBps: 100}
	data, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	data = append(im.Account_Domain[:], data...)
	at := pda.Domain(op, "alpha")
	chain := fakeChain{at: data, pda.Domain(op, "beta"): data}
	if got, err := readDomain(context.Background(), chain.raw, at); err != nil || got.Name != "alpha" {
		t.Fatalf("the real domain: %+v %v", got, err)
	}
	// The same bytes at another address are not that domain.
	var p *explain.Problem
	if _, err := readDomain(context.Background(), chain.raw, pda.Domain(op, "beta")); !errors.As(err, &p) || !strings.Contains(p.What, "is not a domain") {
		t.Fatalf("look-alike: %v", err)
	}
	if _, err := readDomain(context.Background(), chain.raw, pda.Domain(op, "gamma")); !errors.As(err, &p) || !strings.Contains(p.What, "no domain") {
		t.Fatalf("missing: %v", err)
	}
}

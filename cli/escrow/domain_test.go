package escrow

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/pda"
)

func TestParseDomainArg(t *testing.T) {
	op := solana.NewWallet().PublicKey()
	if got, err := parseDomainArg(op.String() + "/alpha"); err != nil || !got.Equals(pda.Domain(op, "alpha")) {
		t.Fatalf("operator/name: %s %v", got, err)
	}
	d := pda.Domain(op, "beta")
	if got, err := parseDomainArg(" " + d.String() + " "); err != nil || !got.Equals(d) {
		t.Fatalf("address: %s %v", got, err)
	}
	for _, bad := range []string{"alpha", "", "bob/alpha", op.String() + "/", op.String() + "/" + string(make([]byte, 33))} {
		if _, err := parseDomainArg(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else {
			problem(t, err, "--domain")
		}
	}
}

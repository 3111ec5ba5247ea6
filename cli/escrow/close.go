package escrow

import (
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
)

// checkClose makes close_escrow's checks first: no lanes (the program's
// LanesStillOpen; an empty lane counts too, since a node could still hold
// unsettled runs against it) and nothing unallocated.
func checkClose(addr solana.PublicKey, e *im.Escrow, native func(uint64) string) error {
	if len(e.Lanes) > 0 {
		nodes := make([]string, len(e.Lanes))
		for i, l := range e.Lanes {
			nodes[i] = l.Node.String()
		}
		return explain.Newf("revoke each lane first: `mt escrow revoke <escrow> <node>` starts the notice, the same command after it closes the lane",
			"escrow %s still has lanes open to %d node(s): %s", addr, len(e.Lanes), strings.Join(nodes, ", "))
	}
	if e.Balance > 0 {
		return explain.Newf("withdraw it first: `mt escrow request-withdrawal <escrow> all`, then `mt escrow withdraw` after the notice period",
			"escrow %s still holds %s native tokens", addr, native(e.Balance))
	}
	return nil
}

func closeCommand() *cli.Command {
	return &cli.Command{
		Name:      "close",
		Usage:     "close an empty escrow with no lanes and get its rent back",
		ArgsUsage: "[<escrow address or API key>]",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			owner, err := x.Session.Signer()
			if err != nil {
				return err
			}
			e, err := x.Reader.Escrow(c.Context, addr)
			if err != nil {
				return err
			}
			if !e.Owner.Equals(owner.PublicKey()) {
				return explain.Newf("sign with the owner's keypair (--keypair)", "escrow %s is owned by %s, not by you", addr, e.Owner)
			}
			if err := checkClose(addr, e, func(v uint64) string { return x.Native(v).String() }); err != nil {
				return err
			}
			ix, err := ix.CloseEscrow(owner.PublicKey(), addr)
			if err != nil {
				return fmt.Errorf("build close_escrow: %w", err)
			}
			return x.Session.Submit(c.Context, session.Tx{What: "close escrow " + addr.String(), Instructions: []solana.Instruction{ix}, Labels: x.labels(addr)},
				func(sig solana.Signature) (any, error) {
					return closed{Escrow: addr, Signature: sig.String()}, nil
				})
		},
	}
}

type closed struct {
	Escrow    solana.PublicKey `json:"closed"`
	Signature string           `json:"signature"`
}

func (c closed) Text() string {
	return output.Fields{{Label: "Closed", Value: c.Escrow}, {Label: "Signature", Value: c.Signature}}.Text()
}

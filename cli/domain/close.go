package domain

import (
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Closed is what close and close-membership print: the domain is gone (or
// the membership is), so there is no view to re-read.
type Closed struct {
	Closed    solana.PublicKey `json:"closed"`
	What      string           `json:"what"`
	Signature string           `json:"signature"`
}

// Text renders the result.
func (c Closed) Text() string {
	return fmt.Sprintf("closed %s %s\nsignature %s\n", c.What, c.Closed, c.Signature)
}

func closed(addr solana.PublicKey, what string) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		return Closed{Closed: addr, What: what, Signature: sig.String()}, nil
	}
}

func closeCommand() *cli.Command {
	return &cli.Command{
		Name:      "close",
		Usage:     "close your domain once no memberships remain; the bond and the rent come back to you",
		ArgsUsage: "<domain>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			t, err := loadDomain(c)
			if err != nil {
				return err
			}
			x, addr, d := t.x, t.addr, t.d
			op, err := t.operator("close it")
			if err != nil {
				return err
			}
			if d.Memberships > 0 {
				return explain.Wrap(im.ErrDomainHasMembers, fmt.Sprintf("%q still has %d membership(s)", d.Name, d.Memberships),
					"remove every member (`mt domain remove`), then close each membership after its notice (`mt domain close-membership`)")
			}
			dest := tokens.ATA(op.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			instr, err := ix.CloseDomain(op.PublicKey(), addr, dest, ix.MeterNativeOf(x.Meter))
			if err != nil {
				return fmt.Errorf("build close_domain: %w", err)
			}
			x.Session.Note("the bond %s returns to %s; escrow lanes to the domain stay until their owners revoke them", x.Native(d.Bond), dest)
			labels := x.labels(addr)
			labels[dest] = "your native token account"
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("close domain %q", d.Name), Instructions: []solana.Instruction{instr}, Labels: labels}, closed(addr, "domain"))
		},
	}
}

func closeMembershipCommand() *cli.Command {
	return &cli.Command{
		Name:      "close-membership",
		Usage:     "close a node's ended membership after its notice (anyone may; the rent goes to the node's operator)",
		ArgsUsage: "<domain> <node>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			t, err := loadDomain(c, "node")
			if err != nil {
				return err
			}
			x, addr, d := t.x, t.addr, t.d
			node, n, err := resolveNode(c.Context, x.Reader.Raw, t.rest[0])
			if err != nil {
				return err
			}
			m, ok, err := readMembership(c.Context, x.Reader.Raw, addr, node)
			if err != nil {
				return err
			}
			if !ok {
				return explain.Newf("nothing to close", "node %s has no membership of %q", node, d.Name)
			}
			if m.Status != im.MembershipStatus_Left && m.Status != im.MembershipStatus_Removed {
				return explain.Wrap(im.ErrInvalidMembershipStatus, fmt.Sprintf("node %s is %s in %q", node, m.Status, d.Name), "remove it (`mt domain remove`) or let it leave first")
			}
			now, err := x.Session.Now(c.Context)
			if err != nil {
				return err
			}
			if now.Unix() <= m.SettleUntil {
				return explain.Wrap(im.ErrMembershipNoticeNotElapsed, fmt.Sprintf("node %s may settle what it served until %s", node, time.Unix(m.SettleUntil, 0).UTC().Format(time.RFC3339)),
					"close it after that")
			}
			closer, err := x.Session.Signer()
			if err != nil {
				return err
			}
			instr, err := ix.CloseMembership(closer.PublicKey(), n.Operator, addr)
			if err != nil {
				return fmt.Errorf("build close_membership: %w", err)
			}
			membership := pda.Membership(addr, node)
			labels := x.labels(addr)
			labels[membership], labels[n.Operator] = "membership", "node operator (gets the rent)"
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("close the membership of node %s in %q", node, d.Name), Instructions: []solana.Instruction{instr}, Labels: labels}, closed(membership, "membership"))
		},
	}
}

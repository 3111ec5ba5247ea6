package domain

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// memberTarget is what admit and remove read: the signer's domain, the node and its membership.
type memberTarget struct {
	x      *env
	domain solana.PublicKey
	d      *im.Domain
	node   solana.PublicKey
	n      *im.Node
	m      *im.Membership
	op     solana.PrivateKey
}

// loadMemberTarget resolves <domain> <node> for the domain's operator.
func loadMemberTarget(c *cli.Context) (*memberTarget, error) {
	dt, err := loadDomain(c, "node")
	if err != nil {
		return nil, err
	}
	x := dt.x
	t := &memberTarget{x: x, domain: dt.addr, d: dt.d}
	if t.op, err = dt.operator("admit or remove members"); err != nil {
		return nil, err
	}
	if t.node, t.n, err = resolveNode(c.Context, x.Reader.Raw, dt.rest[0]); err != nil {
		return nil, err
	}
	m, ok, err := readMembership(c.Context, x.Reader.Raw, t.domain, t.node)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, explain.Newf("the node's operator asks first with `mt domain join`", "node %s has not asked to join %q", t.node, t.d.Name)
	}
	t.m = m
	return t, nil
}

func (t *memberTarget) labels() map[solana.PublicKey]string {
	return map[solana.PublicKey]string{t.node: "node", pda.Membership(t.domain, t.node): "membership"}
}

func admitCommand() *cli.Command {
	return &cli.Command{
		Name:      "admit",
		Usage:     "admit a node that asked to join your domain; from now on it may serve and settle against the domain's lanes",
		ArgsUsage: "<domain> <node>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			t, err := loadMemberTarget(c)
			if err != nil {
				return err
			}
			if t.m.Status != im.MembershipStatus_Requested {
				return explain.Wrap(im.ErrInvalidMembershipStatus, fmt.Sprintf("node %s is %s in %q, not requesting", t.node, t.m.Status, t.d.Name), "only a node that asked to join (and has not left) can be admitted")
			}
			if err := rules.CheckNodeEligible(t.n, t.d); err != nil {
				return explain.Wrap(err, fmt.Sprintf("node %s cannot be admitted: %v", t.node, err), "the node's operator activates it or adds stake first")
			}
			instr, err := ix.AdmitMember(t.op.PublicKey(), t.domain, t.node)
			if err != nil {
				return fmt.Errorf("build admit_member: %w", err)
			}
			return t.x.submit(c, fmt.Sprintf("admit node %s to %q", t.node, t.d.Name), t.domain, []solana.Instruction{instr}, t.labels())
		},
	}
}

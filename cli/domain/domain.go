// Package domain is the `mt domain` command group: a domain operator
// creates a domain (a bond, a minimum node stake, a fee share of what its
// member nodes earn, a notice period), admits and removes nodes and changes
// the fee; a node operator asks to join and leaves; anyone lists domains and
// shows one with its members. Escrow owners open lanes to a domain with
// `mt escrow allow --domain`. The rules are the program's
// (programs/inference-meter/DOMAINS.md); every input is checked before
// anything is sent, with the program's named error when it would refuse.
package domain

import (
	"context"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/meter"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Command is `mt domain`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "domain",
		Usage: "domains: operators that admit nodes, serve users through them and take a share of what they earn",
		Description: "A domain is named by its address, by <operator>/<name>, or — for your own domain — by its name.\n" +
			"A node is named by its node address or its operator's address.\n" +
			"Escrow owners let a domain's members spend from their escrow with `mt escrow allow <escrow> --domain <domain> <amount>`.",
		Subcommands: []*cli.Command{
			createCommand(), showCommand(), listCommand(), joinCommand(), admitCommand(), removeCommand(), leaveCommand(), setFeeCommand(), closeMembershipCommand(), closeCommand(),
		},
	}
}

// env is what every command reads first.
type env struct{ *meter.Env }

func loadEnv(c *cli.Context) (*env, error) {
	e, err := meter.LoadEnv(c)
	if err != nil {
		return nil, err
	}
	return &env{e}, nil
}

// domainRef is a domain as a command names it, before reading the chain.
type domainRef struct {
	addr     solana.PublicKey // set for an address or operator/name
	name     string           // set for a bare name (the signer's domain)
	resolved bool
}

// parseDomainRef reads <domain>: an address, <operator>/<name> or a name.
func parseDomainRef(arg string) (domainRef, error) {
	arg = strings.TrimSpace(arg)
	if op, name, ok := strings.Cut(arg, "/"); ok {
		operator, err := solana.PublicKeyFromBase58(op)
		if err != nil {
			return domainRef{}, explain.Newf("write <operator address>/<name>, e.g. the operator's wallet address, a slash and the domain's name", "domain %q: %q is not an address", arg, op)
		}
		if err := checkName(name); err != nil {
			return domainRef{}, err
		}
		return domainRef{addr: pda.Domain(operator, name), resolved: true}, nil
	}
	if addr, err := solana.PublicKeyFromBase58(arg); err == nil && len(arg) >= 32 {
		return domainRef{addr: addr, resolved: true}, nil
	}
	if err := checkName(arg); err != nil {
		return domainRef{}, err
	}
	return domainRef{name: arg}, nil
}

// address is the domain's address; a bare name is the signer's domain.
func (r domainRef) address(signer func() (solana.PrivateKey, error)) (solana.PublicKey, error) {
	if r.resolved {
		return r.addr, nil
	}
	k, err := signer()
	if err != nil {
		return solana.PublicKey{}, err
	}
	return pda.Domain(k.PublicKey(), r.name), nil
}

// target is a command's domain, read from the chain, and the rest of its arguments.
type target struct {
	x    *env
	addr solana.PublicKey
	d    *im.Domain
	rest []string
}

// loadDomain reads the arguments <domain> and then rest, checks them before
// any network call, then loads the env and the domain.
func loadDomain(c *cli.Context, rest ...string) (*target, error) {
	args, err := session.Args(c, append([]string{"domain"}, rest...)...)
	if err != nil {
		return nil, err
	}
	ref, err := parseDomainRef(args[0])
	if err != nil {
		return nil, err
	}
	x, err := loadEnv(c)
	if err != nil {
		return nil, err
	}
	addr, err := ref.address(x.Session.Signer)
	if err != nil {
		return nil, err
	}
	d, err := readDomain(c.Context, x.Reader.Raw, addr)
	if err != nil {
		return nil, err
	}
	return &target{x: x, addr: addr, d: d, rest: args[1:]}, nil
}

// operator is the signer, who must be the domain's operator to action it.
func (t *target) operator(action string) (solana.PrivateKey, error) {
	op, err := t.x.Session.Signer()
	if err != nil {
		return nil, err
	}
	if !t.d.Operator.Equals(op.PublicKey()) {
		return nil, explain.Newf("sign with the domain operator's keypair (--keypair)", "only the operator %s of %q may %s; you are %s", t.d.Operator, t.d.Name, action, op.PublicKey())
	}
	return op, nil
}

// rawReader reads an account's data and owner; ok is false when it does not exist.
type rawReader func(ctx context.Context, addr solana.PublicKey) (data []byte, owner solana.PublicKey, ok bool, err error)

// readDomain reads the domain at addr, or says how to find one.
func readDomain(ctx context.Context, raw rawReader, addr solana.PublicKey) (*im.Domain, error) {
	data, owner, ok, err := raw(ctx, addr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, explain.Newf("check the name and --url; `mt domain list` shows every domain", "there is no domain at %s", addr)
	}
	d, err := im.ParseAccount_Domain(data)
	if err != nil || !owner.Equals(im.ProgramID) || !pda.Domain(d.Operator, d.Name).Equals(addr) {
		return nil, explain.Newf("pass a domain's address (`mt domain list` shows them)", "%s is not a domain", addr)
	}
	return d, nil
}

// resolveNode reads the node an argument names: its node address or its
// operator's address.
func resolveNode(ctx context.Context, raw rawReader, arg string) (solana.PublicKey, *im.Node, error) {
	addr, err := solana.PublicKeyFromBase58(strings.TrimSpace(arg))
	if err != nil {
		return solana.PublicKey{}, nil, explain.Newf("pass the node's address or its operator's address (`mt node show <operator>` prints both)", "node %q is not an address", arg)
	}
	for _, candidate := range []solana.PublicKey{addr, pda.Node(addr)} {
		data, owner, ok, err := raw(ctx, candidate)
		if err != nil {
			return solana.PublicKey{}, nil, fmt.Errorf("read node %s: %w", candidate, err)
		}
		if !ok || !owner.Equals(im.ProgramID) {
			continue
		}
		if n, err := im.ParseAccount_Node(data); err == nil && pda.Node(n.Operator).Equals(candidate) {
			return candidate, n, nil
		}
	}
	return solana.PublicKey{}, nil, explain.Newf("check the address and --url: pass a registered node's address or its operator's address",
		"%s is neither a node nor the operator of a registered node", addr)
}

// readMembership reads the membership of node in domain; ok is false when there is none.
func readMembership(ctx context.Context, raw rawReader, domain, node solana.PublicKey) (*im.Membership, bool, error) {
	data, owner, ok, err := raw(ctx, pda.Membership(domain, node))
	if err != nil || !ok {
		return nil, false, err
	}
	if !owner.Equals(im.ProgramID) {
		return nil, false, fmt.Errorf("membership %s is not the meter's account", pda.Membership(domain, node))
	}
	m, err := im.ParseAccount_Membership(data)
	if err != nil {
		return nil, false, fmt.Errorf("decode membership %s: %w", pda.Membership(domain, node), err)
	}
	return m, true, nil
}

func (x *env) labels(domain solana.PublicKey) map[solana.PublicKey]string {
	return map[solana.PublicKey]string{domain: "domain", pda.Meter(): "meter", pda.StakeVault(): "stake vault (node stakes and domain bonds)", x.Meter.NativeMint: "native mint"}
}

// submit sends ixs and prints the domain as it is afterwards.
func (x *env) submit(c *cli.Context, what string, domain solana.PublicKey, ixs []solana.Instruction, extra map[solana.PublicKey]string) error {
	labels := x.labels(domain)
	for k, v := range extra {
		labels[k] = v
	}
	return x.Session.Submit(c.Context, session.Tx{What: what, Instructions: ixs, Labels: labels}, func(sig solana.Signature) (any, error) {
		v, err := x.view(c.Context, domain)
		v.Signature = sig.String()
		return v, err
	})
}

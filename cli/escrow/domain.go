package escrow

import (
	"context"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

// domainFlag is --domain on allow: a lane to a domain instead of a node.
func domainFlag() cli.Flag {
	return &cli.StringFlag{Name: "domain", Usage: "open the lane to this domain (its address or <operator>/<name>) instead of a node: any node its operator admitted may spend it"}
}

// parseDomainArg reads a domain's address or <operator>/<name>, before any network call.
func parseDomainArg(arg string) (solana.PublicKey, error) {
	arg = strings.TrimSpace(arg)
	if op, name, ok := strings.Cut(arg, "/"); ok {
		operator, err := solana.PublicKeyFromBase58(op)
		if err != nil || name == "" || len(name) > 32 {
			return solana.PublicKey{}, explain.Newf("pass the domain's address or <operator address>/<name> (`mt domain list` shows both)", "--domain %q is not <operator address>/<name>", arg)
		}
		return pda.Domain(operator, name), nil
	}
	addr, err := solana.PublicKeyFromBase58(arg)
	if err != nil {
		return solana.PublicKey{}, explain.Newf("pass the domain's address or <operator address>/<name> (`mt domain list` shows both)", "--domain %q is not an address", arg)
	}
	return addr, nil
}

// domainAt reads the domain account at addr; ok is false when there is none there.
func domainAt(ctx context.Context, raw rawReader, addr solana.PublicKey) (*im.Domain, bool, error) {
	data, owner, ok, err := raw(ctx, addr)
	if err != nil || !ok || !owner.Equals(im.ProgramID) {
		return nil, false, err
	}
	d, err := im.ParseAccount_Domain(data)
	if err != nil || !pda.Domain(d.Operator, d.Name).Equals(addr) {
		return nil, false, nil
	}
	return d, true, nil
}

// allowDomain is `mt escrow allow [<escrow>] --domain <domain> <amount>`.
func allowDomain(c *cli.Context) error {
	domainAddr, err := parseDomainArg(c.String("domain"))
	if err != nil {
		return err
	}
	x, addr, args, err := loadTarget(c, "escrow", "amount")
	if err != nil {
		return err
	}
	e, owner, err := x.owned(c, addr)
	if err != nil {
		return err
	}
	d, ok, err := domainAt(c.Context, x.Reader.Raw, domainAddr)
	if err != nil {
		return err
	}
	if !ok {
		return explain.Newf("check the address and --url; `mt domain list` shows every domain", "there is no domain at %s", domainAddr)
	}
	units, err := session.ParseAmountOrAll(args[0], e.Balance, x.NativeDecimals, "native tokens")
	if err != nil {
		return err
	}
	if err := checkAllow(addr, e, domainAddr, units, x.Native); err != nil {
		return err
	}
	if l := settlement.LaneOf(e, domainAddr); l != nil && rules.CheckDomainLane(l.DomainSerial, d.Serial) != nil {
		return explain.Newf(fmt.Sprintf("take it back first (`mt escrow revoke %s %s`, again after the notice), then allow the new domain if you trust it", addr, domainAddr),
			"escrow %s's lane at %s was opened to an earlier domain there, since closed; %q is a new domain at that address", addr, domainAddr, d.Name)
	}
	x.Session.Note("allowing domain %q (operator %s, %d admitted members, fee %d bps of their operator share)", d.Name, d.Operator, d.Members, d.FeeBps)
	if d.Members == 0 {
		x.Session.Note("warning: the domain has no admitted members, so nobody serves this lane yet")
	}
	instr, err := ix.AllowDomain(owner.PublicKey(), addr, domainAddr, units)
	if err != nil {
		return fmt.Errorf("build allow_domain: %w", err)
	}
	labels := x.labels(addr)
	labels[domainAddr] = "domain (gets the lane)"
	return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("allow domain %q %s more of escrow %s", d.Name, x.Native(units), addr), Instructions: []solana.Instruction{instr}, Labels: labels},
		x.viewed(c, addr, func(v *View) { v.Allowed = &Allowance{Node: domainAddr, Amount: x.Native(units)} }))
}

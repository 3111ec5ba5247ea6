package domain

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/amount"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// View is a domain as the commands print it.
type View struct {
	Address        solana.PublicKey `json:"address"`
	Operator       solana.PublicKey `json:"operator"`
	Name           string           `json:"name"`
	Bond           amount.Tokens    `json:"bond"`
	MinNodeStake   amount.Tokens    `json:"min_node_stake"`
	FeeBps         uint16           `json:"fee_bps"`
	PreviousFeeBps uint16           `json:"previous_fee_bps"`
	FeeEffectiveAt time.Time        `json:"fee_effective_at"`
	NoticeSecs     int64            `json:"notice_secs"`
	Members        uint32           `json:"members"`
	Memberships    uint32           `json:"memberships"`
	Slashed        amount.Tokens    `json:"slashed"`
	CreatedAt      time.Time        `json:"created_at"`
	MemberList     []Member         `json:"member_list,omitempty"`
	Signature      string           `json:"signature,omitempty"`
}

// Member is one membership of the domain.
type Member struct {
	Node        solana.PublicKey `json:"node"`
	Operator    solana.PublicKey `json:"operator"`
	Status      string           `json:"status"`
	Endpoint    string           `json:"endpoint"`
	AdmittedAt  *time.Time       `json:"admitted_at,omitempty"`
	SettleUntil *time.Time       `json:"settle_until,omitempty"`
}

// Text renders the view.
func (v View) Text() string {
	fee := fmt.Sprintf("%d bps of member nodes' operator share", v.FeeBps)
	if v.PreviousFeeBps != v.FeeBps {
		fee += fmt.Sprintf(" for runs served from %s (%d bps before)", v.FeeEffectiveAt.Format(time.RFC3339), v.PreviousFeeBps)
	}
	fs := output.Fields{
		{Label: "Domain", Value: v.Address},
		{Label: "Name", Value: v.Name},
		{Label: "Operator", Value: v.Operator},
		{Label: "Bond", Value: v.Bond.String() + " native tokens"},
		{Label: "Min node stake", Value: v.MinNodeStake.String() + " native tokens"},
		{Label: "Fee", Value: fee},
		{Label: "Notice", Value: duration.Format(v.NoticeSecs)},
		{Label: "Members", Value: fmt.Sprintf("%d admitted (%d memberships)", v.Members, v.Memberships)},
		{Label: "Created", Value: v.CreatedAt.Format(time.RFC3339)},
	}
	if v.Slashed.Base > 0 {
		fs = append(fs, output.Field{Label: "Slashed", Value: v.Slashed.String()})
	}
	for _, m := range v.MemberList {
		line := fmt.Sprintf("%s %s (operator %s)", m.Status, m.Endpoint, m.Operator)
		if m.SettleUntil != nil {
			line += ", may settle until " + m.SettleUntil.Format(time.RFC3339)
		}
		fs = append(fs, output.Field{Label: "  " + m.Node.String(), Value: line})
	}
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

func unix(t int64) time.Time { return time.Unix(t, 0).UTC() }

// viewOf is d at addr as printed, without its members.
func (x *env) viewOf(addr solana.PublicKey, d *im.Domain) View {
	return View{
		Address: addr, Operator: d.Operator, Name: d.Name, Bond: x.Native(d.Bond), MinNodeStake: x.Native(d.MinNodeStake),
		FeeBps: d.FeeBps, PreviousFeeBps: d.PreviousFeeBps, FeeEffectiveAt: unix(d.FeeEffectiveAt), NoticeSecs: d.NoticeSecs,
		Members: d.Members, Memberships: d.Memberships, Slashed: x.Native(d.Slashed), CreatedAt: unix(d.CreatedAt),
	}
}

// view reads the domain at addr with its members.
func (x *env) view(ctx context.Context, addr solana.PublicKey) (View, error) {
	d, err := readDomain(ctx, x.Reader.Raw, addr)
	if err != nil {
		return View{}, err
	}
	v := x.viewOf(addr, d)
	members, err := x.members(ctx, addr)
	v.MemberList = members
	return v, err
}

// programAccounts lists the meter's accounts of one type (disc), with
// more memcmp filters.
func (x *env) programAccounts(ctx context.Context, disc [8]byte, filters ...rpc.RPCFilter) (rpc.GetProgramAccountsResult, error) {
	return x.Reader.RPC.GetProgramAccountsWithOpts(ctx, im.ProgramID, &rpc.GetProgramAccountsOpts{
		Encoding:   solana.EncodingBase64,
		Commitment: x.Reader.Commitment,
		Filters:    append([]rpc.RPCFilter{{Memcmp: &rpc.RPCFilterMemcmp{Offset: 0, Bytes: disc[:]}}}, filters...),
	})
}

// members lists the domain's memberships (Membership.domain is at offset 8).
func (x *env) members(ctx context.Context, domain solana.PublicKey) ([]Member, error) {
	res, err := x.programAccounts(ctx, im.Account_Membership, rpc.RPCFilter{Memcmp: &rpc.RPCFilterMemcmp{Offset: 8, Bytes: domain[:]}})
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", domain, err)
	}
	out := make([]Member, 0, len(res))
	for _, a := range res {
		m, err := im.ParseAccount_Membership(a.Account.Data.GetBinary())
		if err != nil {
			return nil, fmt.Errorf("decode membership %s: %w", a.Pubkey, err)
		}
		mv := Member{Node: m.Node, Status: strings.ToLower(m.Status.String())}
		if m.AdmittedAt != 0 {
			t := unix(m.AdmittedAt)
			mv.AdmittedAt = &t
		}
		if m.Status == im.MembershipStatus_Left || m.Status == im.MembershipStatus_Removed {
			t := unix(m.SettleUntil)
			mv.SettleUntil = &t
		}
		if data, _, ok, err := x.Reader.Raw(ctx, m.Node); err == nil && ok {
			if n, err := im.ParseAccount_Node(data); err == nil && pda.Node(n.Operator).Equals(m.Node) {
				mv.Operator, mv.Endpoint = n.Operator, n.Endpoint
			}
		}
		out = append(out, mv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node.String() < out[j].Node.String() })
	return out, nil
}

package escrow

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/amount"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

// View is an escrow as the commands print it.
type View struct {
	Address solana.PublicKey `json:"address"`
	Owner   solana.PublicKey `json:"owner"`
	// Balance is everything the escrow holds: unallocated plus its lanes.
	Balance amount.Tokens `json:"balance"`
	// Unallocated is deposited money no node can spend; only it can be withdrawn.
	Unallocated   amount.Tokens     `json:"unallocated"`
	Lanes         []LaneView        `json:"lanes"`
	Spent         amount.Tokens     `json:"spent"`
	Unpaid        amount.Tokens     `json:"unpaid"`
	SpendLimit    *amount.Tokens    `json:"spend_limit"`
	AllowedModels []uint64          `json:"allowed_models"`
	Withdrawal    *Withdrawal       `json:"withdrawal,omitempty"`
	RotatedTo     *solana.PublicKey `json:"rotated_to,omitempty"`
	OpenedAt      time.Time         `json:"opened_at"`

	// Set by open and rotate-key: the API key, shown this once.
	APIKey    string         `json:"api_key,omitempty"`
	Deposited *amount.Tokens `json:"deposited,omitempty"`
	// Set by allow (and open/deposit --node): what went into which lane.
	Allowed   *Allowance `json:"allowed,omitempty"`
	Signature string     `json:"signature,omitempty"`
}

// LaneView is one node's lane: what that node may still settle.
type LaneView struct {
	Node     solana.PublicKey  `json:"node"`
	Operator *solana.PublicKey `json:"operator,omitempty"`
	Endpoint string            `json:"endpoint,omitempty"`
	// NodeStatus is the node's status (active, inactive, unbonding), or
	// "missing" when its account is gone.
	NodeStatus string        `json:"node_status"`
	Balance    amount.Tokens `json:"balance"`
	Spent      amount.Tokens `json:"spent"`
	// Set while a revocation is pending: until RevocableAt the node can
	// still settle runs it served; then `mt escrow revoke` completes it.
	RevokeRequestedAt *time.Time `json:"revoke_requested_at,omitempty"`
	RevocableAt       *time.Time `json:"revocable_at,omitempty"`
}

// Allowance is what one command moved into a lane.
type Allowance struct {
	Node   solana.PublicKey `json:"node"`
	Amount amount.Tokens    `json:"amount"`
}

// Withdrawal is a pending withdrawal.
type Withdrawal struct {
	Amount      amount.Tokens `json:"amount"`
	RequestedAt time.Time     `json:"requested_at"`
	AvailableAt time.Time     `json:"available_at"`
}

// newView is the view of escrow e at addr; nodes holds the lanes' node
// accounts that could be read (by node address), notice is the meter's
// withdrawal notice, which is also the revocation notice.
func newView(addr solana.PublicKey, e *im.Escrow, nodes map[solana.PublicKey]*im.Node, notice int64, native func(uint64) amount.Tokens) View {
	total := e.Balance
	lanes := make([]LaneView, 0, len(e.Lanes))
	for _, l := range e.Lanes {
		total += l.Balance
		lv := LaneView{Node: l.Node, NodeStatus: "missing", Balance: native(l.Balance), Spent: native(l.Spent)}
		if n := nodes[l.Node]; n != nil {
			op := n.Operator
			lv.Operator, lv.Endpoint, lv.NodeStatus = &op, n.Endpoint, strings.ToLower(n.Status.String())
		}
		if l.RevokeRequestedAt != 0 {
			req, due := time.Unix(l.RevokeRequestedAt, 0).UTC(), time.Unix(l.RevokeRequestedAt+notice, 0).UTC()
			lv.RevokeRequestedAt, lv.RevocableAt = &req, &due
		}
		lanes = append(lanes, lv)
	}
	v := View{
		Address: addr, Owner: e.Owner, Balance: native(total), Unallocated: native(e.Balance), Lanes: lanes,
		Spent: native(e.Spent), Unpaid: native(e.Unpaid),
		AllowedModels: e.AllowedModels, RotatedTo: e.RotatedTo, OpenedAt: time.Unix(e.OpenedAt, 0).UTC(),
	}
	if v.AllowedModels == nil {
		v.AllowedModels = []uint64{}
	}
	if e.SpendLimit != nil {
		l := native(*e.SpendLimit)
		v.SpendLimit = &l
	}
	if e.WithdrawalRequestedAt != 0 {
		v.Withdrawal = &Withdrawal{
			Amount:      native(e.WithdrawalAmount),
			RequestedAt: time.Unix(e.WithdrawalRequestedAt, 0).UTC(),
			AvailableAt: time.Unix(e.WithdrawalRequestedAt+notice, 0).UTC(),
		}
	}
	return v
}

// Text renders the view; an API key comes first, with a warning.
func (v View) Text() string {
	var b strings.Builder
	if v.APIKey != "" {
		fmt.Fprintf(&b, "API key: %s\n", v.APIKey)
		b.WriteString("  Store it now: it is shown only this once and cannot be recovered (only its id is on chain).\n")
		b.WriteString("  Use it as the bearer token of any OpenAI client pointed at a keeper you opened a lane to.\n\n")
	}
	models := "any model"
	if len(v.AllowedModels) > 0 {
		ids := make([]string, len(v.AllowedModels))
		for i, id := range v.AllowedModels {
			ids[i] = strconv.FormatUint(id, 10)
		}
		models = "models " + strings.Join(ids, ", ")
	}
	limit := "none"
	if v.SpendLimit != nil {
		limit = v.SpendLimit.Labeled(nativeUnit)
	}
	fs := output.Fields{
		{Label: "Escrow", Value: v.Address},
		{Label: "Owner", Value: v.Owner},
		{Label: "Balance", Value: fmt.Sprintf("%s (%s unallocated, the rest in %d lane(s))", v.Balance.Labeled(nativeUnit), v.Unallocated.Labeled(nativeUnit), len(v.Lanes))},
	}
	for i, l := range v.Lanes {
		fs = append(fs, output.Field{Label: fmt.Sprintf("Lane %d", i+1), Value: l.text()})
	}
	if len(v.Lanes) == 0 {
		fs = append(fs, output.Field{Label: "Lanes", Value: "none: no node can spend this escrow yet; open one with `mt escrow allow <escrow> <node> <amount>`"})
	}
	fs = append(fs,
		output.Field{Label: "Spent", Value: fmt.Sprintf("%s (unpaid runs: %s)", v.Spent.Labeled(nativeUnit), v.Unpaid.Labeled(nativeUnit))},
		output.Field{Label: "Spend limit", Value: limit},
		output.Field{Label: "Pays for", Value: models},
		output.Field{Label: "Opened", Value: v.OpenedAt.Format(time.RFC3339)},
	)
	if v.Deposited != nil {
		fs = append(fs, output.Field{Label: "Deposited", Value: v.Deposited.Labeled(nativeUnit)})
	}
	if a := v.Allowed; a != nil {
		fs = append(fs, output.Field{Label: "Allowed", Value: fmt.Sprintf("%s more to node %s", a.Amount.Labeled(nativeUnit), a.Node)})
	}
	if w := v.Withdrawal; w != nil {
		fs = append(fs, output.Field{Label: "Withdrawal", Value: fmt.Sprintf("%s requested at %s, available from %s",
			w.Amount.Labeled(nativeUnit), w.RequestedAt.Format(time.RFC3339), w.AvailableAt.Format(time.RFC3339))})
	}
	if v.RotatedTo != nil {
		fs = append(fs, output.Field{Label: "Rotated to", Value: v.RotatedTo.String() + " (this key no longer works; its balance moved there)"})
	}
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	b.WriteString(fs.Text())
	return b.String()
}

// nativeUnit labels escrow amounts: escrows hold the protocol's native token.
const nativeUnit = "native tokens"

func (l LaneView) text() string {
	s := fmt.Sprintf("node %s: %s left, %s spent", l.Node, l.Balance.Labeled(nativeUnit), l.Spent.Labeled(nativeUnit))
	switch {
	case l.Operator == nil:
		s += " (its node account is gone)"
	default:
		s += fmt.Sprintf(" (%s, %s)", l.Endpoint, l.NodeStatus)
	}
	if l.RevocableAt != nil {
		s += "; revocation requested, revocable from " + l.RevocableAt.Format(time.RFC3339)
	}
	return s
}

// view reads the escrow at addr and the nodes of its lanes.
func (x *env) view(c *cli.Context, addr solana.PublicKey) (View, *im.Escrow, error) {
	e, err := x.Reader.Escrow(c.Context, addr)
	if err != nil {
		return View{}, nil, err
	}
	nodes := map[solana.PublicKey]*im.Node{}
	for _, l := range e.Lanes {
		// A node that cannot be read is shown as such; the lane still is.
		if n, err := nodeAt(c.Context, x.Reader.Raw, l.Node); err == nil {
			nodes[l.Node] = n
		}
	}
	v := newView(addr, e, nodes, x.Meter.WithdrawalNoticeSecs, x.Native)
	// A lane keyed by a domain is the domain's members' (allow --domain).
	for i, l := range v.Lanes {
		if nodes[l.Node] != nil {
			continue
		}
		if d, ok, err := domainAt(c.Context, x.Reader.Raw, l.Node); err == nil && ok {
			v.Lanes[i].NodeStatus = fmt.Sprintf("domain %q", d.Name)
			if el := settlement.LaneOf(e, l.Node); el != nil && rules.CheckDomainLane(el.DomainSerial, d.Serial) != nil {
				v.Lanes[i].NodeStatus = fmt.Sprintf("stale: opened to an earlier domain at this address; now domain %q (revoke it)", d.Name)
			}
			op := d.Operator
			v.Lanes[i].Operator = &op
		}
	}
	return v, e, nil
}

// viewed is the result of a command that changed the escrow at addr: the
// escrow as it is now, with the signature and what set adds.
func (x *env) viewed(c *cli.Context, addr solana.PublicKey, set func(*View)) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		v, _, err := x.view(c, addr)
		v.Signature = sig.String()
		if set != nil {
			set(&v)
		}
		return v, err
	}
}

func withSig(v View, sig solana.Signature) View { v.Signature = sig.String(); return v }

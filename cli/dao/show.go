package dao

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Overview is `dao show <model>`: the rules, every proposal, your record.
type Overview struct {
	Model      uint64         `json:"model"`
	Deposited  amount.Tokens  `json:"total_deposited"`
	Warming    amount.Tokens  `json:"warming"`
	Treasury   amount.Tokens  `json:"treasury"`
	Proposals  []ProposalView `json:"proposals"`
	You        *VoterView     `json:"you,omitempty"`
	Governance string         `json:"governance"`
}

// Text renders the overview.
func (o Overview) Text() string {
	var b strings.Builder
	b.WriteString(output.Fields{
		{Label: "Model", Value: o.Model},
		{Label: "Rules", Value: o.Governance},
		{Label: "MT deposited", Value: fmt.Sprintf("%s (%s warming up)", o.Deposited, o.Warming)},
		{Label: "Treasury", Value: o.Treasury.String() + " native tokens"},
	}.Text())
	if len(o.Proposals) == 0 {
		b.WriteString("\nNo proposals yet: `mt dao propose " + strconv.FormatUint(o.Model, 10) + " ...`\n")
	} else {
		rows := make([][]string, len(o.Proposals))
		for i, p := range o.Proposals {
			rows[i] = []string{strconv.FormatUint(p.Index, 10), p.State, fmt.Sprintf("%s/%s/%s", p.Yes, p.No, p.Abstain), p.Action}
		}
		b.WriteString("\n" + output.Table([]string{"#", "STATE", "YES/NO/ABSTAIN MT", "ACTION"}, rows))
	}
	if o.You != nil {
		b.WriteString("\nYou:\n" + o.You.Text())
	}
	return b.String()
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "a model's DAO (rules, proposals, your deposit) or one proposal",
		ArgsUsage: "<model-id> [<proposal>]",
		Flags:     session.ReadFlags(session.WalletFlag("whose deposit to show (default: your keypair's, if it exists)")),
		Action: func(c *cli.Context) error {
			names := []string{}
			if c.NArg() == 2 {
				names = append(names, "proposal")
			}
			e, args, err := load(c, names...)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				index, err := parseIndex(args[0])
				if err != nil {
					return err
				}
				v, _, err := e.proposalView(c.Context, index)
				if err != nil {
					return err
				}
				return e.Session.Out.Print(v)
			}
			g := e.Model.Governance
			o := Overview{
				Model: e.ID, Deposited: model.MT(e.Model.Revenue.TotalDeposited), Warming: model.MT(e.Model.Revenue.Warming), Proposals: []ProposalView{},
				Governance: fmt.Sprintf("quorum %d bps of circulating MT, threshold %d bps of yes+no, voting %s, hold-up %s, %s MT to propose",
					g.QuorumBps, g.ThresholdBps, duration.Format(g.VotingPeriodSecs), duration.Format(g.HoldUpSecs), model.MT(g.MinProposeMt)),
			}
			if bal, err := e.Reader.TokenBalance(c.Context, pda.Vaults(e.Addr).Treasury); err == nil {
				o.Treasury = e.Native(bal)
			}
			for i := uint64(0); i < e.Model.ProposalCount; i++ {
				v, _, err := e.proposalView(c.Context, i)
				if err != nil {
					return err
				}
				o.Proposals = append(o.Proposals, v)
			}
			// Without --wallet, your record is shown only if your keypair loads.
			who, err := e.Session.Wallet(c)
			if err != nil && c.IsSet(session.FlagWallet) {
				return err
			}
			if !who.IsZero() {
				v, _, err := e.VoterViewOf(c.Context, who)
				if err != nil {
					return err
				}
				o.You = &v
			}
			return e.Session.Out.Print(o)
		},
	}
}

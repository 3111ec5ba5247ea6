package bounty

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// ReputationCommand is `mt reputation`.
func ReputationCommand() *cli.Command {
	return &cli.Command{
		Name:  "reputation",
		Usage: "a wallet's on-chain record as contributor and reviewer in a model",
		Subcommands: []*cli.Command{{
			Name:      "show",
			Usage:     "accepted, rejected and spam submissions; reviews committed, revealed, agreed and slashed",
			ArgsUsage: "<model-id>",
			Flags:     session.ReadFlags(session.WalletFlag("whose record to show (default: your keypair's)")),
			Action: func(c *cli.Context) error {
				e, _, err := load(c)
				if err != nil {
					return err
				}
				who, err := e.Session.Wallet(c)
				if err != nil {
					return err
				}
				rep, _, err := e.reputation(c.Context, who)
				if err != nil {
					return err
				}
				return e.Session.Out.Print(ReputationView{Model: e.ID, Wallet: who, Reputation: rep})
			},
		}},
	}
}

// ReputationView is `reputation show`; an absent record shows zeros.
type ReputationView struct {
	Model  uint64           `json:"model"`
	Wallet solana.PublicKey `json:"wallet"`
	*mt.Reputation
}

// Text renders the record.
func (v ReputationView) Text() string {
	r := v.Reputation
	return output.Fields{
		{Label: "Wallet", Value: fmt.Sprintf("%s in model %d", v.Wallet, v.Model)},
		{Label: "Contributor", Value: fmt.Sprintf("%d submitted: %d accepted, %d rejected, %d spam", r.Submitted, r.Accepted, r.Rejected, r.Spam)},
		{Label: "Reviewer", Value: fmt.Sprintf("%d committed, %d revealed, %d with the outcome, %d slashed", r.ReviewsCommitted, r.ReviewsRevealed, r.ReviewsAgreed, r.ReviewsSlashed)},
	}.Text()
}

// reputation reads wallet's record; a zero record (ok false) if it has none.
func (e *env) reputation(ctx context.Context, wallet solana.PublicKey) (*mt.Reputation, bool, error) {
	data, owner, ok, err := e.Reader.Raw(ctx, pda.Reputation(e.Addr, wallet))
	if err != nil {
		return nil, false, err
	}
	if !ok || !owner.Equals(mt.ProgramID) {
		return &mt.Reputation{Model: e.Addr, Wallet: wallet}, false, nil
	}
	r, err := mt.ParseAccount_Reputation(data)
	if err != nil {
		return nil, false, fmt.Errorf("decode reputation: %w", err)
	}
	return r, true, nil
}

// bountyResult is the result of a command that changed bounty id: the bounty as it is now.
func (e *env) bountyResult(c *cli.Context, id uint64) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		b, err := e.bounty(c.Context, id)
		if err != nil {
			return nil, err
		}
		return struct {
			BountyView
			Signature string `json:"signature"`
		}{e.view(id, b), sig.String()}, nil
	}
}

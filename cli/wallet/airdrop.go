package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// solDecimals: 1 SOL is 10^9 lamports.
const solDecimals = 9

// airdropTimeout bounds the wait for the faucet's transaction to land.
const airdropTimeout = 60 * time.Second

func airdropCommand() *cli.Command {
	return &cli.Command{
		Name:      "airdrop",
		Usage:     "ask the cluster's faucet for SOL (local chain, devnet, testnet; never mainnet)",
		UsageText: "mt airdrop <amount SOL> [address]",
		Description: "Every wallet that signs pays fees and rent in SOL. The address defaults to the keypair's\n" +
			"(--keypair, else the Solana CLI config's keypair_path, else ~/.config/solana/id.json).\n" +
			"Waits until the faucet's transfer reaches the commitment and prints the new balance.",
		Flags:  readFlags(),
		Action: airdrop,
	}
}

// Airdrop is what an airdrop did.
type Airdrop struct {
	Address   string        `json:"address"`
	Amount    amount.Tokens `json:"amount"`
	Balance   amount.Tokens `json:"balance"`
	Signature string        `json:"signature"`
}

func (a Airdrop) Text() string {
	return fmt.Sprintf("airdropped %s SOL to %s\nbalance: %s SOL\nsignature: %s", a.Amount, a.Address, a.Balance, a.Signature)
}

func airdrop(c *cli.Context) error {
	s, err := session.FromContext(c)
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	if len(args) < 1 || len(args) > 2 {
		return explain.Newf("usage: mt airdrop <amount SOL> [address], e.g. mt airdrop 2",
			"expected 1 or 2 arguments (amount, address), got %d", len(args))
	}
	lamports, err := session.ParseAmountArg(args[0], solDecimals, "SOL", "give the SOL to ask for, e.g. mt airdrop 2")
	if err != nil {
		return err
	}
	var to solana.PublicKey
	if len(args) == 2 {
		if to, err = session.ParsePubkey("address", args[1]); err != nil {
			return err
		}
	} else {
		key, err := s.Signer()
		if err != nil {
			return err
		}
		to = key.PublicKey()
	}
	if err := refuseMainnet(c.Context, s.RPC, s.Config.URL); err != nil {
		return err
	}

	sig, err := s.RPC.RequestAirdrop(c.Context, to, lamports, s.Config.Commitment)
	if err != nil {
		return explain.Wrap(err, fmt.Sprintf("%s refused the airdrop: %v", s.Config.URL, err),
			"public faucets are rate-limited and cap each request (devnet: a few SOL): ask for less, later, or use https://faucet.solana.com")
	}
	s.Note("requested %s SOL for %s (%s); waiting for it to land", amount.Format(lamports, solDecimals), to, sig)
	if err := confirm(c.Context, s.RPC, sig, s.Config.Commitment); err != nil {
		return err
	}
	bal, err := s.RPC.GetBalance(c.Context, to, s.Config.Commitment)
	if err != nil {
		return fmt.Errorf("read the balance of %s: %w", to, err)
	}
	return s.Out.Print(Airdrop{
		Address:   to.String(),
		Amount:    amount.Of(lamports, solDecimals),
		Balance:   amount.Of(bal.Value, solDecimals),
		Signature: sig.String(),
	})
}

// refuseMainnet refuses a URL that names mainnet, then one whose genesis
// hash is mainnet's (one cheap call, which also finds an unreachable URL
// before anything is asked).
func refuseMainnet(ctx context.Context, client *rpc.Client, url string) error {
	const fix = "mainnet has no faucet: buy SOL and send it to the wallet; for a test wallet use --url localnet or devnet"
	if cluster.Public(url) == "mainnet-beta" {
		return explain.Newf(fix, "%s is mainnet-beta, where nothing can be airdropped", url)
	}
	hash, err := client.GetGenesisHash(ctx)
	if err != nil {
		return fmt.Errorf("read the genesis hash of %s: %w", url, err)
	}
	if hash.String() == cluster.MainnetGenesisHash {
		return explain.Newf(fix, "%s is mainnet-beta (its genesis hash is mainnet's), where nothing can be airdropped", url)
	}
	return nil
}

// confirm waits until sig reaches commitment.
func confirm(ctx context.Context, client *rpc.Client, sig solana.Signature, commitment rpc.CommitmentType) error {
	ctx, cancel := context.WithTimeout(ctx, airdropTimeout)
	defer cancel()
	for {
		res, err := client.GetSignatureStatuses(ctx, true, sig)
		if err == nil && len(res.Value) == 1 && res.Value[0] != nil {
			st := res.Value[0]
			if st.Err != nil {
				return explain.Newf("ask again, perhaps for less", "the faucet's transfer %s failed on chain: %v", sig, st.Err)
			}
			if reached(st.ConfirmationStatus, commitment) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return explain.Newf("check later with `solana confirm "+sig.String()+"`, or ask again",
					"the faucet's transfer %s did not land within %s", sig, airdropTimeout)
			}
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func reached(got rpc.ConfirmationStatusType, want rpc.CommitmentType) bool {
	rank := map[string]int{"processed": 0, "confirmed": 1, "finalized": 2}
	return rank[string(got)] >= rank[string(want)]
}

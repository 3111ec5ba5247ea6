package protocol

import (
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Minted is what `protocol mint-native` prints.
type Minted struct {
	Wallet       solana.PublicKey `json:"wallet"`
	TokenAccount solana.PublicKey `json:"token_account"`
	Minted       amount.Tokens    `json:"minted"`
	Balance      amount.Tokens    `json:"balance"`
	Signature    string           `json:"signature"`
}

// Text renders the result.
func (m Minted) Text() string {
	return output.Fields{
		{Label: "Minted", Value: m.Minted.String() + " native tokens"},
		{Label: "To", Value: fmt.Sprintf("%s (token account %s)", m.Wallet, m.TokenAccount)},
		{Label: "Balance now", Value: m.Balance.Labeled("native tokens")},
		{Label: "Signature", Value: m.Signature},
	}.Text()
}

func mintNativeCommand() *cli.Command {
	return &cli.Command{
		Name:      "mint-native",
		Usage:     "mint native tokens to a wallet (only the native mint's authority, e.g. after `init --create-native-mint`)",
		ArgsUsage: "<wallet> <amount>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			s, args, err := session.Start(c, "wallet", "amount")
			if err != nil {
				return err
			}
			wallet, err := session.ParsePubkey("wallet", args[0])
			if err != nil {
				return err
			}
			ctx := c.Context
			r := s.Reader()
			p, err := r.Protocol(ctx)
			if err != nil {
				return err
			}
			signer, err := s.Signer()
			if err != nil {
				return err
			}
			data, _, _, err := r.Raw(ctx, p.NativeMint)
			if err != nil {
				return err
			}
			mint, err := r.Mint(ctx, p.NativeMint)
			if err != nil {
				return err
			}
			if len(data) < 36 || binary.LittleEndian.Uint32(data[0:4]) != 1 {
				return explain.Newf("native tokens can only be obtained by transfer from a holder", "the native mint %s has no mint authority", p.NativeMint)
			}
			if authority := solana.PublicKeyFromBytes(data[4:36]); !authority.Equals(signer.PublicKey()) {
				return explain.Newf("sign with the mint authority's keypair (--keypair), or ask a holder to transfer tokens",
					"only the native mint's authority %s can mint; you are %s", authority, signer.PublicKey())
			}
			units, err := session.ParseAmount("amount", args[1], mint.Decimals, "native tokens")
			if err != nil {
				return err
			}
			ata := tokens.ATA(wallet, p.NativeMint, mint.TokenProgram)
			ixs := []solana.Instruction{
				tokens.CreateATAIdempotent(signer.PublicKey(), wallet, p.NativeMint, mint.TokenProgram),
				tokens.MintTo(p.NativeMint, ata, signer.PublicKey(), units, mint.TokenProgram),
			}
			labels := map[solana.PublicKey]string{p.NativeMint: "native mint", ata: "recipient's native token account", wallet: "recipient"}
			return s.Submit(ctx, session.Tx{What: "mint " + args[1] + " native tokens to " + wallet.String(), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					bal, err := r.TokenBalance(ctx, ata)
					return Minted{Wallet: wallet, TokenAccount: ata, Minted: amount.Of(units, mint.Decimals),
						Balance: amount.Of(bal, mint.Decimals), Signature: sig.String()}, err
				})
		},
	}
}

package session

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// Start resolves the session of a command and its positional arguments,
// exactly one per name.
func Start(c *cli.Context, names ...string) (*Session, []string, error) {
	s, err := FromContext(c)
	if err != nil {
		return nil, nil, err
	}
	args, err := Args(c, names...)
	if err != nil {
		return nil, nil, err
	}
	return s, args, nil
}

// Show is the action of a command that takes no arguments and prints what
// read finds.
func Show[V any](read func(context.Context, accounts.Reader) (V, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		s, _, err := Start(c)
		if err != nil {
			return err
		}
		v, err := read(c.Context, s.Reader())
		if err != nil {
			return err
		}
		return s.Out.Print(v)
	}
}

// Reread is the Submit result of a command that changed what read reads
// (the configuration Show prints): what it finds once the transaction
// landed, with the transaction's signature.
func Reread[V any, P interface {
	*V
	Sign(solana.Signature)
}](ctx context.Context, r accounts.Reader, read func(context.Context, accounts.Reader) (V, error)) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		v, err := read(ctx, r)
		P(&v).Sign(sig)
		return v, err
	}
}

// Args returns the command's positional arguments, exactly one per name, or
// a Problem showing the usage.
func Args(c *cli.Context, names ...string) ([]string, error) {
	got := c.Args().Slice()
	if len(got) == len(names) {
		return got, nil
	}
	usage := c.Command.HelpName
	for _, n := range names {
		usage += " <" + n + ">"
	}
	what := fmt.Sprintf("expected %d argument(s) (%s), got %d", len(names), strings.Join(names, ", "), len(got))
	if len(names) == 0 {
		what = fmt.Sprintf("unexpected argument(s) %q", got)
	}
	return nil, explain.New(what, "usage: "+usage+" [flags]; see --help")
}

// FlagWallet names the flag of the commands that show or act for a wallet
// other than the signer's.
const FlagWallet = "wallet"

// WalletFlag is --wallet, read by Wallet.
func WalletFlag(usage string) cli.Flag { return &cli.StringFlag{Name: FlagWallet, Usage: usage} }

// Wallet is the address given with --wallet, else the signer's.
func (s *Session) Wallet(c *cli.Context) (solana.PublicKey, error) {
	if c.IsSet(FlagWallet) {
		return ParsePubkey("--"+FlagWallet, c.String(FlagWallet))
	}
	k, err := s.Signer()
	if err != nil {
		return solana.PublicKey{}, err
	}
	return k.PublicKey(), nil
}

// ParseAmountArg reads a command's <amount> argument, which must be more
// than zero; fix says what to give ("give the MT to deposit, e.g. 100").
func ParseAmountArg(s string, decimals uint8, what, fix string) (uint64, error) {
	v, err := ParseAmount("amount", s, decimals, what)
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, explain.New("the amount must be greater than zero", fix)
	}
	return v, nil
}

// ParseAmountOrAll reads an <amount|all> argument, where "all" is all.
func ParseAmountOrAll(s string, all uint64, decimals uint8, what string) (uint64, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return all, nil
	}
	return ParseAmount("amount", s, decimals, what)
}

// ParseU64 reads a non-negative integer argument or flag value.
func ParseU64(name, s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, explain.Newf("give a whole number, e.g. 3", "%s %q is not a whole number", name, s)
	}
	return v, nil
}

// ParsePubkey reads a base58 address.
func ParsePubkey(name, s string) (solana.PublicKey, error) {
	k, err := solana.PublicKeyFromBase58(strings.TrimSpace(s))
	if err != nil {
		return solana.PublicKey{}, explain.Newf("give a base58 address, e.g. from `solana address`", "%s %q is not an address", name, s)
	}
	return k, nil
}

// ParseBps reads a basis-point value (0 to 10000).
func ParseBps(name string, v uint64) (uint16, error) {
	if v > 10_000 {
		return 0, explain.Newf("basis points go from 0 to 10000 (100% = 10000)", "--%s %d is above 10000", name, v)
	}
	return uint16(v), nil
}

// ParseAmount reads a human amount of a token with the given decimals
// ("12.5"); what names the token in the message ("native tokens", "MT").
func ParseAmount(name, s string, decimals uint8, what string) (uint64, error) {
	v, err := amount.Parse(s, decimals)
	if err != nil {
		return 0, explain.Wrap(err, fmt.Sprintf("%s: %v", name, err),
			fmt.Sprintf("write it as a decimal number of %s with at most %d decimal places, e.g. 12.5", what, decimals))
	}
	return v, nil
}

package escrow

import (
	"fmt"
	"os"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func rotateKeyCommand() *cli.Command {
	return &cli.Command{
		Name:      "rotate-key",
		Usage:     "replace an escrow's API key (e.g. after a leak): a new key is printed once and the balance, lanes and rules move to its escrow",
		ArgsUsage: "[<escrow address or old API key>]",
		Flags:     session.WriteFlags(keyFileFlag(), &cli.StringFlag{Name: "key-out", Usage: "also write the new API key to this file (mode 0600; must not exist)"}),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			_, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			keyOut := c.String("key-out")
			if keyOut != "" {
				if _, err := os.Stat(keyOut); err == nil {
					return explain.Newf("choose another path", "--key-out %s already exists; refusing to overwrite a key", keyOut)
				}
			}
			key, err := apikey.Generate()
			if err != nil {
				return err
			}
			keySigner := apikey.Signer(key)
			newAddr := pda.Escrow(keySigner.PublicKey())
			ix, err := ix.RotateKey(owner.PublicKey(), addr, keySigner.PublicKey())
			if err != nil {
				return fmt.Errorf("build rotate_key: %w", err)
			}
			if err := writeKey(keyOut, key, x.Session.DryRun); err != nil {
				return err
			}
			labels := x.labels(addr)
			labels[newAddr] = "new escrow (new key)"
			labels[keySigner.PublicKey()] = "new API key id (signs: proves you hold the key)"
			return x.Session.Submit(c.Context, session.Tx{What: "rotate the key of escrow " + addr.String(), Instructions: []solana.Instruction{ix}, Signers: []solana.PrivateKey{keySigner}, Labels: labels},
				x.viewed(c, newAddr, func(v *View) { v.APIKey = key }))
		},
	}
}

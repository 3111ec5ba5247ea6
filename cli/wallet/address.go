package wallet

import (
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
)

func addressCommand() *cli.Command {
	return &cli.Command{
		Name:      "address",
		Usage:     "print the address (public key) of a keypair file",
		UsageText: "mt address [-k FILE]",
		Description: "Reads the keypair other commands would sign with: --keypair, else the Solana CLI config's\n" +
			"keypair_path, else ~/.config/solana/id.json.",
		Flags:  readFlags(),
		Action: address,
	}
}

// Address is a keypair's public key and where it was read from.
type Address struct {
	Address string `json:"address"`
	Path    string `json:"path"`
}

// Text is the address alone.
func (a Address) Text() string { return a.Address }

func address(c *cli.Context) error {
	s, _, err := session.Start(c)
	if err != nil {
		return err
	}
	key, err := s.Signer()
	if err != nil {
		return err
	}
	return s.Out.Print(Address{Address: key.PublicKey().String(), Path: s.Config.KeypairPath})
}

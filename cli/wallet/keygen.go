package wallet

import (
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// flagOutfile is keygen's -o, as in `solana-keygen new -o FILE`.
const flagOutfile = "outfile"

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "create a keypair file (the Solana CLI's format) and print its address",
		UsageText: "mt keygen [-o FILE]",
		Description: "Writes a new random keypair as a JSON array of its 64 secret-key bytes (what solana-keygen writes),\n" +
			"readable by its owner only (mode 0600). An existing file is never overwritten.\n" +
			"Without -o the file is the one other commands sign with by default: the Solana CLI config's\n" +
			"keypair_path, else ~/.config/solana/id.json. Here -o is the file; use --output for json.",
		Flags:  keygenFlags(),
		Action: keygen,
	}
}

// keygenFlags are the common flags with -o taken by --outfile (the Solana
// CLI's habit); --output keeps its long name.
func keygenFlags() []cli.Flag {
	flags := []cli.Flag{&cli.StringFlag{Name: flagOutfile, Aliases: []string{"o"}, Usage: "where to write the keypair (default: the session's keypair path)"}}
	for _, f := range session.CommonFlags() {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == session.FlagOutput {
			sf.Aliases = nil
		}
		flags = append(flags, f)
	}
	return flags
}

// Keygen is what keygen made.
type Keygen struct {
	Address string `json:"address"`
	Path    string `json:"path"`
}

// Text is the address alone, so that `$(mt keygen -o a.json)` is it.
func (k Keygen) Text() string { return k.Address }

func keygen(c *cli.Context) error {
	s, _, err := session.Start(c)
	if err != nil {
		return err
	}
	path := s.Config.KeypairPath
	if c.IsSet(flagOutfile) {
		path = c.String(flagOutfile)
	}
	key, err := solana.NewRandomPrivateKey()
	if err != nil {
		return fmt.Errorf("generate a keypair: %w", err)
	}
	if err := writeKeypair(path, key); err != nil {
		return err
	}
	s.Note("wrote a new keypair to %s (keep it secret: whoever has it controls the wallet)", path)
	return s.Out.Print(Keygen{Address: key.PublicKey().String(), Path: path})
}

// writeKeypair is cluster.WriteKeypair with the CLI's wording for what to
// do instead.
func writeKeypair(path string, key solana.PrivateKey) error {
	if path == "" {
		return explain.New("no keypair path", "give one with -o FILE")
	}
	err := cluster.WriteKeypair(path, key)
	if errors.Is(err, cluster.ErrKeypairExists) {
		return explain.Newf("choose another file with -o FILE (mt address -k "+path+" shows whose it is)",
			"%s already exists; mt keygen never overwrites a keypair", path)
	}
	return err
}

package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
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
	if err := WriteKeypair(path, key); err != nil {
		return err
	}
	s.Note("wrote a new keypair to %s (keep it secret: whoever has it controls the wallet)", path)
	return s.Out.Print(Keygen{Address: key.PublicKey().String(), Path: path})
}

// WriteKeypair writes key to path in the Solana CLI's format (a JSON array
// of the 64 secret-key bytes), mode 0600, creating the directory (0700) if
// needed. It refuses an existing path.
func WriteKeypair(path string, key solana.PrivateKey) error {
	if path == "" {
		return explain.New("no keypair path", "give one with -o FILE")
	}
	if len(key) != 64 {
		return fmt.Errorf("keypair holds %d bytes, want 64", len(key))
	}
	ints := make([]int, len(key))
	for i, b := range key {
		ints[i] = int(b)
	}
	data, err := json.Marshal(ints)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return explain.Newf("choose another file with -o FILE (mt address -k "+path+" shows whose it is)",
			"%s already exists; mt keygen never overwrites a keypair", path)
	}
	if err != nil {
		return fmt.Errorf("create keypair file: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("write keypair %s: %w", path, werr)
	}
	return nil
}

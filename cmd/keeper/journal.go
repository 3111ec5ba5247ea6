package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
)

func journalCommand() *cli.Command {
	return &cli.Command{
		Name:  "journal",
		Usage: "back up, check and salvage the receipt journal",
		Subcommands: []*cli.Command{
			{
				Name:      "backup",
				Usage:     "write a consistent copy of the journal to a new file (from the running keeper, else from the file)",
				ArgsUsage: "<new file>",
				Description: "Asks the running keeper's admin listener (--admin, default admin_listen of the config) for a copy\n" +
					"taken in one read transaction while it keeps serving; when no keeper runs, copies the journal\n" +
					"file of the config (or --journal) itself. The copy is verified before it gets its name, and an\n" +
					"existing file is never overwritten. Restore: stop the keeper, put the copy in place of the\n" +
					"journal file, start it (it refuses a copy that is behind the chain: see --accept-journal-loss).",
				Flags: []cli.Flag{configFlag, outputFlag,
					&cli.StringFlag{Name: "admin", Usage: "admin address of the running keeper (default: admin_listen of the config)"},
					&cli.StringFlag{Name: "journal", Usage: "journal file when no keeper runs (default: journal.path of the config)"}},
				Action: journalBackup,
			},
			{
				Name:      "verify",
				Usage:     "check a journal file (structure, every receipt's signature, every batch) without changing it",
				ArgsUsage: "[file]",
				Flags:     []cli.Flag{configFlag, outputFlag},
				Action: func(c *cli.Context) error {
					path := c.Args().First()
					if path == "" {
						var err error
						if path, err = configJournal(c, ""); err != nil {
							return err
						}
					}
					rep, err := journal.Verify(path)
					if err != nil {
						return err
					}
					return printReport(c, "verified", rep)
				},
			},
			{
				Name:      "salvage",
				Usage:     "copy every readable receipt and batch of a damaged journal into a new journal file",
				ArgsUsage: "<damaged file> <new file>",
				Description: "Reads the damaged file without changing it and reports what could not be read. Start the\n" +
					"keeper on the new file: if runs the chain settled were lost, it refuses to start and says so;\n" +
					"--accept-journal-loss then writes them off.",
				Flags: []cli.Flag{outputFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return errors.New("usage: keeper journal salvage <damaged file> <new file>")
					}
					rep, err := journal.Salvage(c.Args().Get(0), c.Args().Get(1))
					if err != nil {
						return err
					}
					return printReport(c, "salvaged into", rep)
				},
			},
		},
	}
}

func journalBackup(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("usage: keeper journal backup <new file>")
	}
	dst := c.Args().First()
	admin := c.String("admin")
	if admin == "" {
		if cfg, err := keeperconfig.Load(c.String("config")); err == nil {
			admin = cfg.AdminListen
		}
	}
	if admin != "" {
		rep, err := journal.FetchBackup(c.Context, nil, "http://"+admin+journal.BackupPath, dst)
		if err == nil {
			return printReport(c, "backed up the running keeper's journal to", rep)
		}
		if !errors.Is(err, journal.ErrUnreachable) {
			return err
		}
	}
	src, err := configJournal(c, c.String("journal"))
	if err != nil {
		return err
	}
	rep, err := journal.BackupFile(src, dst)
	if errors.Is(err, journal.ErrLocked) {
		return fmt.Errorf("a keeper is running on %s but did not answer on an admin address (%q): set admin_listen in its config, "+
			"or pass --admin, so that it can write the copy", src, admin)
	}
	if err != nil {
		return err
	}
	return printReport(c, "backed up "+src+" to", rep)
}

// configJournal is path, or the journal file the config names.
func configJournal(c *cli.Context, path string) (string, error) {
	if path == "" {
		cfg, err := keeperconfig.Load(c.String("config"))
		if err != nil {
			return "", err
		}
		path = cfg.Journal.Path
	}
	return cluster.ExpandHome(path), nil
}

func printReport(c *cli.Context, what string, rep journal.Report) error {
	if c.String("output") == "json" {
		return printJSON(c.App.Writer, rep)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s %s: %d bytes, runs numbered up to #%d\n", what, rep.Path, rep.Bytes, rep.RunSeq)
	fmt.Fprintf(w, "receipts: %s\n", counts(rep.Receipts))
	fmt.Fprintf(w, "batches:  %s\n", counts(rep.Batches))
	if rep.LogReceipts > 0 {
		fmt.Fprintf(w, "receipt log: %d receipts, %d of them not in the file yet (the keeper moves them in when it opens the journal)\n", rep.LogReceipts, rep.LogUnapplied)
	}
	if rep.LogTaken > 0 {
		fmt.Fprintf(w, "taken from the receipt log: %d receipts the file lacked\n", rep.LogTaken)
	}
	if rep.TornHeader {
		fmt.Fprintln(w, "note: one of the two header pages is torn (a commit was interrupted); the other one is used")
	}
	if rep.LostReceipts > 0 || rep.LostBatches > 0 || len(rep.Problems) > 0 {
		fmt.Fprintf(w, "lost: %d damaged receipts, %d damaged batches, and whatever was on the unreadable pages below\n", rep.LostReceipts, rep.LostBatches)
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	return nil
}

func counts[K ~uint8 | ~string](m map[K]int) string {
	if len(m) == 0 {
		return "none"
	}
	type kv struct {
		k string
		n int
	}
	var out []kv
	for k, n := range m {
		out = append(out, kv{fmt.Sprint(k), n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	var b strings.Builder
	for i, e := range out {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", e.n, e.k)
	}
	return b.String()
}

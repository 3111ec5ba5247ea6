// Command keeper is the node operator's daemon: an OpenAI-compatible
// gateway in front of GPU workers that meters every run into signed,
// durable receipts. Run `keeper --help`; the logic lives in keepers/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/gcpolicy"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
	"github.com/modelcommons/modelcommons/keepers/keeperd"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

func main() {
	app := &cli.App{
		Name:  "keeper",
		Usage: "meter inference for community-owned models: gateway, workers, receipts",
		Commands: []*cli.Command{
			runCommand(), initCommand(), statusCommand(), receiptsCommand(), journalCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

var configFlag = &cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "keeper configuration file", Value: "keeper.toml", EnvVars: []string{"KEEPER_CONFIG"}}

var outputFlag = &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "text or json", Value: "text"}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "serve the API (config file, then environment, then flags)",
		Flags: []cli.Flag{
			configFlag,
			&cli.StringFlag{Name: "listen", Usage: "API address", EnvVars: []string{"KEEPER_LISTEN"}},
			&cli.StringFlag{Name: "admin-listen", Usage: "operator address (/metrics, /status)", EnvVars: []string{"KEEPER_ADMIN_LISTEN"}},
			&cli.StringFlag{Name: "url", Aliases: []string{"u", "rpc-url"}, Usage: "cluster: localnet, devnet, mainnet-beta or an RPC URL", EnvVars: []string{"KEEPER_RPC_URL"}},
			&cli.StringFlag{Name: "keypair", Aliases: []string{"k"}, Usage: "keeper hot key file (mode 0600)", EnvVars: []string{"KEEPER_KEYPAIR"}},
			&cli.StringFlag{Name: "journal", Usage: "journal file", EnvVars: []string{"KEEPER_JOURNAL"}},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error", EnvVars: []string{"KEEPER_LOG_LEVEL"}},
			&cli.StringFlag{Name: "log-format", Usage: "text or json", EnvVars: []string{"KEEPER_LOG_FORMAT"}},
			domainFlag,
			&cli.BoolFlag{Name: "accept-journal-loss", Usage: "start although the journal is behind the chain (restored from an old copy, truncated or new): " +
				"write off its runs the chain settled the numbers of, and number new runs above the chain's mark"},
		},
		Action: func(c *cli.Context) error {
			cfg, err := keeperconfig.Load(c.String("config"))
			if err != nil {
				return err
			}
			override := func(flag string, dst *string) {
				if c.IsSet(flag) {
					*dst = c.String(flag)
				}
			}
			override("listen", &cfg.Listen)
			override("admin-listen", &cfg.AdminListen)
			override("url", &cfg.RPCURL)
			override("keypair", &cfg.Keypair)
			override("journal", &cfg.Journal.Path)
			override("log-level", &cfg.LogLevel)
			override("log-format", &cfg.LogFormat)
			cfg.AcceptJournalLoss = c.Bool("accept-journal-loss")
			log, err := newLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			pol, err := cfg.GCPolicy()
			if err != nil {
				return err
			}
			inEffect, fromEnv := gcpolicy.Apply(pol, os.Getenv)
			log.Info("garbage collector", "setting", inEffect.String(), "from_environment", fromEnv)
			if c.IsSet("domain") {
				return runFrontDoor(c.Context, cfg, c.String("domain"), log)
			}
			d, err := keeperd.New(cfg, log)
			if err != nil {
				return err
			}
			return d.Run(c.Context)
		},
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if level == "" {
		level = "info"
	}
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", format)
}

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init-config",
		Usage: "write a commented configuration file to start from",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "file to write (- for stdout)", Value: "keeper.toml"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing file"},
			&cli.StringFlag{Name: "listen", Usage: "the gateway's address (default 127.0.0.1:8080: this host only; 0.0.0.0:8080 to serve others)"},
			&cli.StringFlag{Name: "node", Usage: "your node's account, for [settle] node (`mt node show` prints it)"},
		},
		Action: func(c *cli.Context) error {
			listen, node := c.String("listen"), c.String("node")
			if listen != "" {
				if _, port, err := net.SplitHostPort(listen); err != nil || port == "" {
					return fmt.Errorf("--listen %q is not host:port (e.g. 127.0.0.1:8080 or 0.0.0.0:8080)", listen)
				}
			}
			if node != "" {
				if _, err := solana.PublicKeyFromBase58(node); err != nil {
					return fmt.Errorf("--node %q is not an address; `mt node show` prints your node's", node)
				}
			}
			template := keeperconfig.Initial(listen, node)
			out := c.String("out")
			if out == "-" {
				_, err := io.WriteString(c.App.Writer, template)
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if c.Bool("force") {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists; use --force to overwrite it", out)
			}
			if err != nil {
				return err
			}
			if _, err := io.WriteString(f, template); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s: set keypair, rpc_url, [[model]] and [[worker]], then `keeper run --config %s`\n", out, out)
			return nil
		},
	}
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "unsettled runs, last batch, worker health (from the running keeper, else its journal file)",
		Flags: []cli.Flag{configFlag, outputFlag,
			&cli.StringFlag{Name: "admin", Usage: "admin address of the running keeper (default: admin_listen of the config)"}},
		Action: func(c *cli.Context) error {
			cfg, err := keeperconfig.Load(c.String("config"))
			if err != nil {
				return err
			}
			admin := c.String("admin")
			if admin == "" {
				admin = cfg.AdminListen
			}
			var st keeperapi.Status
			running := false
			if admin != "" {
				st, err = keeperapi.FetchStatus(c.Context, admin)
				running = err == nil
				if err != nil && !errors.Is(err, keeperapi.ErrNotRunning) {
					return err
				}
			}
			if !running {
				if st, err = keeperapi.OfflineStatus(cfg.Journal.Path); err != nil {
					return fmt.Errorf("keeper not running and its journal unreadable: %w", err)
				}
				st.Settlement, _ = keeperapi.OfflineSettlementStatus(c.Context, cfg)
			}
			if c.String("output") == "json" {
				return printJSON(c.App.Writer, st)
			}
			return printStatus(c.App.Writer, st, running)
		},
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, st keeperapi.Status, running bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if running {
		fmt.Fprintf(tw, "keeper\trunning (up %s), ready: %v\n", st.Uptime, st.Ready)
		fmt.Fprintf(tw, "keeper key\t%s\n", st.KeeperKey)
		if c := st.ChainClock; c != nil {
			fmt.Fprintf(tw, "chain clock\t%s (%+.1fs from this host's clock)\n", c.Now.Format(time.RFC3339), c.OffsetSeconds)
		}
	} else {
		fmt.Fprintf(tw, "keeper\tnot running (read from the journal file)\n")
	}
	fmt.Fprintf(tw, "journal\t%s (%d bytes), runs numbered up to #%d\n", st.Journal, st.JournalBytes, st.JournalRunSeq)
	fmt.Fprintf(tw, "unsettled\t%d runs not yet batched; unsettled value %s; %d batches pending\n", st.Unbatched, amount.BaseUnits(st.UnsettledValue), st.PendingBatches)
	if st.LastBatch != nil {
		b := st.LastBatch
		fmt.Fprintf(tw, "last batch\t#%d %s, %d runs, cost %s, root %x\n", b.Seq, b.State, b.Runs, amount.BaseUnits(b.Cost), b.Root[:8])
	} else {
		fmt.Fprintf(tw, "last batch\tnone yet\n")
	}
	for _, ws := range st.Workers {
		health := "down"
		if ws.Healthy {
			health = "up"
		}
		fmt.Fprintf(tw, "worker %s\t%s %s, %s, circuit %s, %d in flight, models %s\n", ws.Name, ws.Kind, ws.URL, health, ws.Circuit, ws.Outstanding, strings.Join(ws.Models, ","))
	}
	printSettlement(tw, st.Settlement)
	return tw.Flush()
}

func receiptsCommand() *cli.Command {
	return &cli.Command{
		Name:  "receipts",
		Usage: "fetch signed run receipts and verify their signatures",
		Description: "A user asks a keeper's gateway with their API key (--gateway, --api-key or MC_API_KEY);\n" +
			"an operator asks the running keeper's admin listener or reads the journal file (--escrow).\n" +
			"Every receipt's encoding and ed25519 signature is checked, and each settled receipt's Merkle\n" +
			"proof against the root its settle transaction recorded on chain, read from the cluster\n" +
			"(--url; an operator's default is the config's rpc_url). Exits non-zero if any check fails.\n" +
			"--run <id> shows one run's receipt: the id a response's X-Run-Id header named. PARTIAL marks a\n" +
			"stream whose client went away mid-way, charged for the tokens generated until then.",
		Flags: []cli.Flag{configFlag, outputFlag,
			&cli.StringFlag{Name: "escrow", Usage: "escrow address (operator lookups)"},
			&cli.StringFlag{Name: "gateway", Usage: "keeper API base URL, e.g. https://keeper.example"},
			&cli.StringFlag{Name: "api-key", Usage: "your API key (prefer the environment variable)", EnvVars: []string{"MC_API_KEY"}},
			&cli.StringFlag{Name: "admin", Usage: "admin address of the running keeper (default: admin_listen of the config)"},
			&cli.StringFlag{Name: "keeper-key", Usage: "expected keeper key (base58); receipts signed by another key are rejected"},
			&cli.StringFlag{Name: "url", Aliases: []string{"u"}, Usage: "cluster to check the batch roots on: localnet, devnet, mainnet-beta or an RPC URL"},
			&cli.StringFlag{Name: "after", Usage: "run id to continue after"},
			&cli.StringFlag{Name: "run", Usage: "only this run's receipt (the X-Run-Id of its response)"},
			&cli.IntFlag{Name: "limit", Value: 100},
		},
		Action: func(c *cli.Context) error {
			q := keeperapi.ReceiptQuery{Limit: c.Int("limit")}
			if a := c.String("after"); a != "" {
				id, err := receipts.ParseRunID(a)
				if err != nil {
					return err
				}
				q.After = id
			}
			var run *receipts.RunID
			if s := c.String("run"); s != "" {
				if c.IsSet("after") {
					return errors.New("give --run or --after, not both")
				}
				id, err := receipts.ParseRunID(s)
				if err != nil {
					return fmt.Errorf("--run: %w", err)
				}
				// Listings run in run-id order after a given id: the id
				// just before finds the run or proves it absent.
				run, q.After, q.Limit = &id, id.Prev(), 1
			}
			if e := c.String("escrow"); e != "" {
				pk, err := solana.PublicKeyFromBase58(e)
				if err != nil {
					return fmt.Errorf("--escrow: %w", err)
				}
				q.Escrow = pk
			}
			var want solana.PublicKey
			if k := c.String("keeper-key"); k != "" {
				pk, err := solana.PublicKeyFromBase58(k)
				if err != nil {
					return fmt.Errorf("--keeper-key: %w", err)
				}
				want = pk
			}
			switch {
			case c.String("gateway") != "":
				q.GatewayURL, q.APIKey = strings.TrimRight(c.String("gateway"), "/"), c.String("api-key")
				page, err := keeperapi.FetchReceipts(c.Context, q)
				if err != nil {
					return err
				}
				if page, err = onlyRun(page, run); err != nil {
					return err
				}
				client, err := clusterClient(c.String("url"))
				if err != nil {
					return err
				}
				return printProvenReceipts(c, q, client, page, want)
			case !q.Escrow.IsZero():
				admin := c.String("admin")
				cfg, cfgErr := keeperconfig.Load(c.String("config"))
				if admin == "" && cfgErr == nil {
					admin = cfg.AdminListen
				}
				if admin != "" {
					q.AdminAddr = admin
				}
				page, err := keeperapi.FetchReceipts(c.Context, q)
				if errors.Is(err, keeperapi.ErrNotRunning) || q.AdminAddr == "" {
					if cfgErr != nil {
						return cfgErr
					}
					q.AdminAddr, q.Journal = "", cfg.Journal.Path
					page, err = keeperapi.FetchReceipts(c.Context, q)
				}
				if err != nil {
					return err
				}
				if page, err = onlyRun(page, run); err != nil {
					return err
				}
				url := c.String("url")
				if url == "" {
					url = cfg.RPCURL
				}
				client, err := clusterClient(url)
				if err != nil {
					return err
				}
				return printProvenReceipts(c, q, client, page, want)
			case c.String("api-key") != "":
				return errors.New("--api-key needs --gateway (the keeper's API URL)")
			default:
				return errors.New("give --escrow (operator) or --gateway with --api-key / MC_API_KEY (user)")
			}
		},
	}
}

// onlyRun narrows a page fetched for --run to that run, or says it has
// no receipt.
func onlyRun(page gateway.ReceiptPage, run *receipts.RunID) (gateway.ReceiptPage, error) {
	if run == nil {
		return page, nil
	}
	page.HasMore = false
	if len(page.Data) == 0 || page.Data[0].RunID != run.String() {
		return page, fmt.Errorf("no receipt for run %s under escrow %s on this keeper: a run that failed, or whose client left before its first chunk, is not charged and has none", run, page.Escrow)
	}
	page.Data = page.Data[:1]
	return page, nil
}

func printReceipts(c *cli.Context, page gateway.ReceiptPage, want solana.PublicKey) error {
	verified, err := keeperapi.VerifyPage(page, want)
	if err != nil {
		return fmt.Errorf("verification failed: %w", err)
	}
	if c.String("output") == "json" {
		return printJSON(c.App.Writer, page)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "escrow %s, keeper %s: %d receipts, signatures verified\n", page.Escrow, page.Keeper, len(verified))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTATE\tBATCH\tMODELS\tIN TOKENS\tOUT TOKENS\tCOST\tSERVED\tESTIMATED\tPARTIAL")
	for _, v := range verified {
		r := v.Signed.Receipt
		var models []string
		for _, m := range r.Models {
			models = append(models, fmt.Sprintf("%d@%d", m.ModelID, m.WeightBps))
		}
		batch := "-"
		if v.View.BatchSeq != 0 {
			batch = fmt.Sprint(v.View.BatchSeq)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%v\t%v\n", r.RunID, v.View.State, batch, strings.Join(models, "+"),
			r.InputTokens, r.OutputTokens, amount.BaseUnits(r.Cost), r.ServedAt().UTC().Format(time.RFC3339), r.Estimated, r.Partial)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.HasMore && len(verified) > 0 {
		fmt.Fprintf(w, "more: --after %s\n", verified[len(verified)-1].Signed.Receipt.RunID)
	}
	return nil
}

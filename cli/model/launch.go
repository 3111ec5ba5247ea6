package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/launchspec"
	"github.com/modelcommons/modelcommons/cli/protocol"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

func launchCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "spec", Usage: "launch spec file (.toml, .yaml, .yml or .json); flags override its values"},
		&cli.Uint64Flag{Name: "resume", Usage: "finish the launch of this model id (after an interrupted launch), with the same spec"},
	}
	for _, f := range launchspec.Fields {
		usage := f.Usage + " [" + f.Key + "]"
		if f.Default != "" {
			usage += " (default: " + f.Default + ")"
		}
		flags = append(flags, &cli.StringFlag{Name: f.Flag, Usage: usage})
	}
	return &cli.Command{
		Name:  "launch",
		Usage: "launch a model: fix its token, supply split, crowdfund, governance and prices, and pay the set-up fee",
		Description: "Parameters come from --spec <file> and/or flags. Everything is checked locally first, every problem\n" +
			"listed at once, and nothing is sent until the whole spec is valid. A launch takes three transactions\n" +
			"(terms and fee; the MT mint with its metadata; the vaults); if it stops midway, finish it with --resume <id>.",
		Flags:  session.WriteFlags(flags...),
		Action: runLaunch,
	}
}

// Spec builds the raw launch spec from --spec and the flags that were set.
func Spec(c *cli.Context) (launchspec.Raw, launchspec.Issues, error) {
	raw := launchspec.Raw{}
	var issues launchspec.Issues
	if path := c.String("spec"); path != "" {
		f, err := launchspec.FormatOf(path)
		if err != nil {
			return nil, nil, explain.Wrap(err, err.Error(), "rename the file or convert it")
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, explain.Wrap(err, fmt.Sprintf("cannot read the launch spec: %v", err), "check the --spec path")
		}
		raw, issues = launchspec.Parse(data, f)
		if raw == nil {
			raw = launchspec.Raw{}
		}
		// A relative allowlist path in a spec file is relative to the file.
		if p, ok := raw["crowdfund.allowlist"].(string); ok && p != "" && !filepath.IsAbs(p) {
			raw["crowdfund.allowlist"] = filepath.Join(filepath.Dir(path), p)
		}
	}
	for _, f := range launchspec.Fields {
		if c.IsSet(f.Flag) {
			raw[f.Key] = c.String(f.Flag)
		}
	}
	return raw, issues, nil
}

func issuesProblem(issues launchspec.Issues) error {
	what := fmt.Sprintf("the launch spec has %d problems:", len(issues))
	if len(issues) == 1 {
		what = "the launch spec has 1 problem:"
	}
	for _, is := range issues {
		what += "\n  - " + is.String()
		if is.ProgramError != "" {
			what += " [mt_treasury." + is.ProgramError + "]"
		}
	}
	return explain.New(what, "fix them and run the command again; nothing was sent")
}

func runLaunch(c *cli.Context) error {
	e, err := protocol.LoadEnv(c)
	if err != nil {
		return err
	}
	ctx, s, r, creator, p := c.Context, e.Session, e.Reader, e.Signer, e.Protocol
	nm, err := r.Mint(ctx, p.NativeMint)
	if err != nil {
		return err
	}
	now, err := s.Now(ctx)
	if err != nil {
		return err
	}
	raw, issues, err := Spec(c)
	if err != nil {
		return err
	}

	resuming := c.IsSet("resume")
	var id uint64
	var existing *mt.Model
	if resuming {
		id = c.Uint64("resume")
		if existing, err = r.Model(ctx, id); err != nil {
			return err
		}
		if !existing.Creator.Equals(creator.PublicKey()) {
			return explain.Newf("sign with the creator's keypair (--keypair)", "model %d was launched by %s, not by you (%s)", id, existing.Creator, creator.PublicKey())
		}
		if existing.Stage != mt.Stage_Launching {
			return explain.Newf("see it with `mt model show "+strconv.FormatUint(id, 10)+"`", "model %d is already launched (%s)", id, StageName(existing.Stage))
		}
	}

	terms, more := launchspec.Resolve(raw, launchspec.Env{NativeDecimals: nm.Decimals, MinPeriodSecs: p.MinPeriodSecs, Now: now, ProtocolFeeBps: p.ProtocolFeeBps})
	if resuming {
		// The terms are on chain already; only the token's metadata is still needed.
		more = tokenIssues(more)
	}
	issues = append(issues, more...)
	if len(issues) > 0 {
		return issuesProblem(issues)
	}

	if !resuming {
		if p.Paused {
			return explain.New("the protocol is paused: launches are stopped", "wait until the protocol admin resumes it (`mt protocol show`)")
		}
		feeSource := tokens.ATA(creator.PublicKey(), p.NativeMint, p.NativeTokenProgram)
		if p.SetupFee > 0 {
			bal, err := r.TokenBalance(ctx, feeSource)
			if err != nil {
				return err
			}
			if bal < p.SetupFee {
				return explain.Newf("get native tokens into that account first",
					"the set-up fee is %s native tokens but your native token account %s holds %s native tokens",
					amount.Format(p.SetupFee, nm.Decimals), feeSource, amount.Format(bal, nm.Decimals))
			}
		}
		id = p.ModelCount
	}
	addr := pda.Model(id)
	mtMint := pda.MtMint(addr)
	labels := modelLabels(addr, mtMint, p.NativeMint)

	steps := []struct {
		what string
		ix   func() (solana.Instruction, error)
		done func() (bool, error)
	}{
		{
			what: fmt.Sprintf("launch model %d: terms and set-up fee (1/3)", id),
			ix: func() (solana.Instruction, error) {
				return ix.LaunchModel(creator.PublicKey(), tokens.ATA(creator.PublicKey(), p.NativeMint, p.NativeTokenProgram), id, ix.NativeOf(p), LaunchArgs(terms))
			},
			done: func() (bool, error) { return resuming, nil },
		},
		{
			what: fmt.Sprintf("launch model %d: MT mint %q (%s) with its metadata (2/3)", id, terms.Name, terms.Symbol),
			ix: func() (solana.Instruction, error) {
				return ix.CreateModelToken(creator.PublicKey(), addr, mt.CreateModelTokenArgs{Name: terms.Name, Symbol: terms.Symbol, Uri: terms.URI})
			},
			done: func() (bool, error) { return r.Exists(ctx, mtMint) },
		},
		{
			what: fmt.Sprintf("launch model %d: vaults; the crowdfund opens (3/3)", id),
			ix: func() (solana.Instruction, error) {
				return ix.OpenModelVaults(creator.PublicKey(), addr, ix.NativeOf(p))
			},
			done: func() (bool, error) { return false, nil },
		},
	}
	var sigs []string
	for i, step := range steps {
		done, err := step.done()
		if err != nil {
			return err
		}
		if done {
			continue
		}
		ix, err := step.ix()
		if err != nil {
			return fmt.Errorf("build %s: %w", step.what, err)
		}
		tx := session.Tx{What: step.what, Instructions: []solana.Instruction{ix}, Labels: labels}
		if s.DryRun {
			// Later steps need the earlier ones on chain; only the first pending one can be simulated.
			if i < len(steps)-1 {
				s.Note("note: %d more transaction(s) follow this one; each is simulated once the previous has landed", len(steps)-1-i)
			}
			return s.DryRunTx(ctx, tx)
		}
		sig, err := s.Send(ctx, tx)
		if err != nil {
			if i > 0 || resuming {
				return resumeHint(err, id)
			}
			return err
		}
		sigs = append(sigs, sig.String())
		s.Note("%s: %s", step.what, sig)
	}
	v, err := Load(ctx, r, id, now)
	if err != nil {
		return explain.Wrap(err, fmt.Sprintf("model %d was launched but reading it back failed: %v", id, err), fmt.Sprintf("see it with `mt model show %d`", id))
	}
	v.Signatures = sigs
	return s.Out.Print(v)
}

func resumeHint(err error, id uint64) error {
	e := explain.Explain(err, explain.Context{})
	return explain.Wrap(err, e.What, fmt.Sprintf("model %d's terms are on chain but its launch is incomplete; fix the cause, then finish with `mt model launch --resume %d` and the same spec", id, id))
}

// tokenIssues keeps only the issues about the token's metadata (what a
// resumed launch still sends).
func tokenIssues(issues launchspec.Issues) launchspec.Issues {
	var out launchspec.Issues
	for _, i := range issues {
		if len(i.Key) >= 6 && i.Key[:6] == "token." {
			out = append(out, i)
		}
	}
	return out
}

// LaunchArgs converts validated terms to the instruction's arguments.
func LaunchArgs(t launchspec.Terms) mt.LaunchModelArgs { return t.Args() }

func specTemplateCommand() *cli.Command {
	return &cli.Command{
		Name:  "spec-template",
		Usage: "print a complete launch spec to edit (every key with its meaning)",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Value: "toml", Usage: "toml, yaml or json"}},
		Action: func(c *cli.Context) error {
			if _, err := session.Args(c); err != nil {
				return err
			}
			text, err := launchspec.Template(launchspec.Format(strings.ToLower(c.String("format"))))
			if err != nil {
				return explain.Wrap(err, err.Error(), "use --format toml, yaml or json")
			}
			_, err = fmt.Fprint(c.App.Writer, text)
			return err
		},
	}
}

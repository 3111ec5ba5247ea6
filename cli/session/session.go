// Package session is one invocation of the CLI against one cluster: the
// resolved configuration, the RPC client, the signer (loaded only when a
// command needs one), the output printer, and Submit, which either sends a
// transaction or — with --dry-run — simulates it and prints what it would
// do without sending anything.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

// Session is what a command runs with.
type Session struct {
	Config cluster.Config
	RPC    *rpc.Client
	Out    *output.Printer
	// Err receives progress notes and warnings (never results).
	Err    io.Writer
	DryRun bool
	// PriorityMicroLamports is the compute-unit price.
	PriorityMicroLamports uint64

	signer solana.PrivateKey
	sender *txsend.Sender
}

// FromContext resolves the session of a command from its flags.
func FromContext(c *cli.Context) (*Session, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	cfg, err := cluster.Resolve(cluster.Flags{
		URL:        lookup(c, FlagURL),
		Keypair:    lookup(c, FlagKeypair),
		Commitment: lookup(c, FlagCommitment),
		ConfigFile: lookup(c, FlagConfig),
	}, home)
	if err != nil {
		return nil, err
	}
	format, err := output.ParseFormat(lookup(c, FlagOutput))
	if err != nil {
		return nil, err
	}
	s := New(cfg, format, c.App.Writer, c.App.ErrWriter)
	s.DryRun = c.Bool(FlagDryRun)
	s.PriorityMicroLamports = c.Uint64(FlagPriority)
	if c.App.Metadata == nil {
		c.App.Metadata = map[string]any{}
	}
	c.App.Metadata[metadataKey] = s
	return s, nil
}

const metadataKey = "mt.session"

// Explain explains err for the session the app ran (if a command got as far
// as resolving one), mentioning its cluster and fee payer.
func Explain(app *cli.App) (explain.Context, bool) {
	s, _ := app.Metadata[metadataKey].(*Session)
	if s == nil {
		return explain.Context{}, false
	}
	ctx := explain.Context{URL: s.Config.URL}
	if s.signer != nil {
		ctx.Payer = s.signer.PublicKey()
	}
	return ctx, s.Out.JSON()
}

// New returns a session for cfg writing results to out in format and notes to errw.
func New(cfg cluster.Config, format output.Format, out, errw io.Writer) *Session {
	if out == nil {
		out = os.Stdout
	}
	if errw == nil {
		errw = os.Stderr
	}
	return &Session{
		Config: cfg,
		RPC:    rpc.New(cfg.URL),
		Out:    output.New(out, format),
		Err:    errw,
	}
}

// Reader reads accounts at the session's commitment.
func (s *Session) Reader() accounts.Reader {
	return accounts.Reader{RPC: s.RPC, Commitment: s.Config.Commitment}
}

// Signer loads the keypair file once.
func (s *Session) Signer() (solana.PrivateKey, error) {
	if s.signer == nil {
		key, err := cluster.LoadKeypair(s.Config.KeypairPath)
		if errors.Is(err, cluster.ErrNoKeypair) {
			return nil, explain.Wrap(err, "no keypair file at "+s.Config.KeypairPath,
				"create one with `mt keygen -o "+s.Config.KeypairPath+"`, or pass --keypair <file>")
		}
		if err != nil {
			return nil, err
		}
		s.signer = key
	}
	return s.signer, nil
}

// SetSigner replaces the signer (tests, and commands that take a second key).
func (s *Session) SetSigner(k solana.PrivateKey) { s.signer = k }

// Sender is the transaction sender for this session.
func (s *Session) Sender() *txsend.Sender {
	if s.sender == nil {
		s.sender = txsend.New(txsend.Config{
			RPC:                   s.RPC,
			Commitment:            s.Config.Commitment,
			PriorityMicroLamports: s.PriorityMicroLamports,
			PollInterval:          200 * time.Millisecond,
			Errors: txsend.Tables{
				mt.ProgramID:    mt.Errors,
				meter.ProgramID: meter.Errors,
			},
			Logger: slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
	}
	return s.sender
}

// Now is the chain's clock (the Clock sysvar), which is what deadlines are
// checked against on chain; it may differ from the wall clock.
func (s *Session) Now(ctx context.Context) (time.Time, error) {
	res, err := s.RPC.GetAccountInfoWithOpts(ctx, solana.SysVarClockPubkey, &rpc.GetAccountInfoOpts{Commitment: s.Config.Commitment})
	if err != nil {
		return time.Time{}, fmt.Errorf("read the chain's clock: %w", err)
	}
	data := res.Value.Data.GetBinary()
	if len(data) < 40 {
		return time.Time{}, errors.New("the chain's clock sysvar is malformed")
	}
	unix := int64(uint64(data[32]) | uint64(data[33])<<8 | uint64(data[34])<<16 | uint64(data[35])<<24 |
		uint64(data[36])<<32 | uint64(data[37])<<40 | uint64(data[38])<<48 | uint64(data[39])<<56)
	return time.Unix(unix, 0).UTC(), nil
}

// Note prints a progress note or warning for people on stderr. Under
// --output json nothing is printed, so that stderr holds at most the one
// JSON error object (the results carry the same facts).
func (s *Session) Note(format string, args ...any) {
	if s.Out.JSON() {
		return
	}
	fmt.Fprintf(s.Err, format+"\n", args...)
}

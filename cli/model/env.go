package model

import (
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/amount"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// Start resolves the session of a command whose positional arguments are a
// model id, then names; rest are the arguments after the id.
func Start(c *cli.Context, names ...string) (s *session.Session, id uint64, rest []string, err error) {
	s, args, err := session.Start(c, append([]string{"model-id"}, names...)...)
	if err != nil {
		return nil, 0, nil, err
	}
	if id, err = ParseID(args[0]); err != nil {
		return nil, 0, nil, err
	}
	return s, id, args[1:], nil
}

// Env is what a command about one model reads first: the model, the
// protocol and the decimals of the protocol's native mint.
type Env struct {
	Session        *session.Session
	Reader         accounts.Reader
	ID             uint64
	Addr           solana.PublicKey
	Model          *mt.Model
	Protocol       *mt.Protocol
	NativeDecimals uint8
	// Now is the chain's clock; only LoadEnvNow reads it.
	Now time.Time
}

// LoadEnv starts a command as Start does and reads its Env.
func LoadEnv(c *cli.Context, names ...string) (e *Env, rest []string, err error) {
	s, id, rest, err := Start(c, names...)
	if err != nil {
		return nil, nil, err
	}
	e = &Env{Session: s, Reader: s.Reader(), ID: id, Addr: pda.Model(id)}
	if e.Model, err = e.Reader.Model(c.Context, id); err != nil {
		return nil, nil, err
	}
	if e.Protocol, err = e.Reader.Protocol(c.Context); err != nil {
		return nil, nil, err
	}
	nm, err := e.Reader.Mint(c.Context, e.Protocol.NativeMint)
	if err != nil {
		return nil, nil, err
	}
	e.NativeDecimals = nm.Decimals
	return e, rest, nil
}

// LoadEnvNow is LoadEnv that also reads the chain's clock, for commands
// that check deadlines.
func LoadEnvNow(c *cli.Context, names ...string) (*Env, []string, error) {
	e, rest, err := LoadEnv(c, names...)
	if err != nil {
		return nil, nil, err
	}
	if e.Now, err = e.Session.Now(c.Context); err != nil {
		return nil, nil, err
	}
	return e, rest, nil
}

// MT is an amount of a model's token (every MT mint has rules.MTDecimals).
func MT(v uint64) amount.Tokens { return amount.Of(v, rules.MTDecimals) }

// Native is an amount of the native token.
func (e *Env) Native(v uint64) amount.Tokens { return amount.Of(v, e.NativeDecimals) }

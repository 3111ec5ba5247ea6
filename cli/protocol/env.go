package protocol

import (
	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/explain"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// Env is what a command that takes no arguments and signs for the
// protocol (the admin's updates, a creator's launch) reads first.
type Env struct {
	Session  *session.Session
	Reader   accounts.Reader
	Signer   solana.PrivateKey
	Protocol *mt.Protocol
}

// LoadEnv resolves the session of a command, loads its signer and reads
// the protocol.
func LoadEnv(c *cli.Context) (*Env, error) {
	s, _, err := session.Start(c)
	if err != nil {
		return nil, err
	}
	e := &Env{Session: s, Reader: s.Reader()}
	if e.Signer, err = s.Signer(); err != nil {
		return nil, err
	}
	if e.Protocol, err = e.Reader.Protocol(c.Context); err != nil {
		return nil, err
	}
	return e, nil
}

// RequireAdmin adds a problem when the signer is not the protocol's admin;
// may says what only the admin may do ("update the meter").
func (e *Env) RequireAdmin(problems *explain.Problems, may string) {
	if !e.Protocol.Admin.Equals(e.Signer.PublicKey()) {
		problems.Addf("only the protocol admin %s may %s; your keypair is %s (pass --keypair)", e.Protocol.Admin, may, e.Signer.PublicKey())
	}
}

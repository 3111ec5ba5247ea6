package clitest

import (
	"encoding/binary"
	"testing"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// World puts accounts on a Chain.
type World func(*testing.T, *Chain)

// NativeMint is the native mint of Protocol (6 decimals).
var NativeMint = solana.PublicKey{9}

// MinPeriodSecs is Protocol's shortest period.
const MinPeriodSecs = 60

// Protocol is an initialised protocol administered by admin, with its
// native mint and a 1% swap fee.
func Protocol(admin solana.PublicKey) World { return protocol(admin, false) }

// PausedProtocol is Protocol, paused.
func PausedProtocol(admin solana.PublicKey) World { return protocol(admin, true) }

func protocol(admin solana.PublicKey, paused bool) World {
	return func(t *testing.T, c *Chain) {
		c.PutAnchor(t, pda.Protocol(), mt.ProgramID, mt.Account_Protocol, mt.Protocol{
			Admin: admin, NativeMint: NativeMint, NativeTokenProgram: solana.TokenProgramID, FeeVault: pda.FeeVault(),
			SwapFeeBps: 100, SwapProtocolShareBps: 5_000, MinPeriodSecs: MinPeriodSecs, Paused: paused,
		})
		c.PutMint(NativeMint, 6)
	}
}

// MinNodeStake is Meter's minimum node stake: 100 native tokens.
const MinNodeStake = 100_000_000

// Meter is an initialised inference meter of Protocol.
func Meter() World {
	return func(t *testing.T, c *Chain) {
		c.PutAnchor(t, pda.Meter(), im.ProgramID, im.Account_MeterConfig, im.MeterConfig{
			Protocol: pda.Protocol(), NativeMint: NativeMint, EscrowVault: pda.EscrowVault(), StakeVault: pda.StakeVault(),
			MinNodeStake: MinNodeStake, UnbondingSecs: 600, WithdrawalNoticeSecs: 600,
		})
	}
}

// Model is model m, at its PDA.
func Model(m mt.Model) World {
	return func(t *testing.T, c *Chain) {
		c.PutAnchor(t, pda.Model(m.Id), mt.ProgramID, mt.Account_Model, m)
	}
}

// Node is node n, at its operator's PDA.
func Node(n im.Node) World {
	return func(t *testing.T, c *Chain) {
		c.PutAnchor(t, pda.Node(n.Operator), im.ProgramID, im.Account_Node, n)
	}
}

// Clock is the chain's Clock sysvar at unix time now.
func Clock(now int64) World {
	return func(t *testing.T, c *Chain) {
		data := make([]byte, 40) // slot, epoch start, epoch, leader schedule epoch, unix_timestamp
		binary.LittleEndian.PutUint64(data[32:], uint64(now))
		c.Put(solana.SysVarClockPubkey, solana.SysVarRentPubkey, data)
	}
}

// Worlds puts each of ws.
func Worlds(ws ...World) World {
	return func(t *testing.T, c *Chain) {
		for _, w := range ws {
			w(t, c)
		}
	}
}

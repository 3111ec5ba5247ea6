package chaincache

import (
	"errors"
	"slices"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/settlement"
)

// EscrowState is what admission needs of an inference_meter Escrow.
type EscrowState struct {
	Address solana.PublicKey
	Owner   solana.PublicKey
	// KeyHash is the API key's id (clients/apikey.ID; the PDA seed).
	KeyHash solana.PublicKey
	// Balance is the escrow's unallocated balance: no node can charge it
	// (informational; admission reads Lane).
	Balance uint64
	Spent   uint64
	// SpendLimit caps Spent; nil for no cap.
	SpendLimit *uint64
	// AllowedModels the escrow may pay for; empty for any.
	AllowedModels []uint64
	// RotatedTo is set once the key was rotated; the old key is dead.
	RotatedTo *solana.PublicKey
	// Lane is this keeper's node's lane in the escrow: all that settlement
	// by this node may take. Nil when the owner opened none (or revoked it).
	Lane *Lane
}

// Lane is a node's allowance in an escrow (inference_meter Lane).
type Lane struct {
	Balance uint64
	// RevokeRequestedAt is when the owner asked to revoke it (0: not
	// asked): the gateway then admits nothing more against it.
	RevokeRequestedAt int64
}

// Available is what settlement by this keeper's node may still take from
// the escrow, as the program computes it: the lane's balance within the
// escrow's spend limit (0 without a lane). A pending withdrawal does not
// matter: it only takes unallocated money.
func (e EscrowState) Available() uint64 {
	if e.Lane == nil {
		return 0
	}
	return settlement.Escrow{HasLane: true, Balance: e.Lane.Balance, Spent: e.Spent, SpendLimit: e.SpendLimit}.Available()
}

// Allows reports whether the escrow may pay for model id.
func (e EscrowState) Allows(id uint64) bool {
	return len(e.AllowedModels) == 0 || slices.Contains(e.AllowedModels, id)
}

// Price is a model's price per 1 000 tokens in native base units.
type Price struct {
	InputPer1k, OutputPer1k uint64
}

// ClockObserver takes readings of the chain's Clock sysvar made elsewhere
// (keepers/chainclock.Clock).
type ClockObserver interface {
	Observe(unix int64)
}

// ErrNoEscrow: no escrow account exists at the address.
var ErrNoEscrow = errors.New("escrow not found")

// ErrNoModel: the price book has no such model.
var ErrNoModel = errors.New("model not found on chain")

// ErrModelInactive: the model exists but is not Active (settlement would
// refuse its runs).
var ErrModelInactive = errors.New("model is not active on chain")

// ErrPriceStale: the keeper's copy of the model is older than the model's
// hold-up at the serve time and could not be read again; a price change it
// has not seen might be in effect.
var ErrPriceStale = errors.New("the keeper's copy of the model's price is too old to quote at the serve time and could not be read again")

// ErrUnavailable: the chain could not be asked.
var ErrUnavailable = errors.New("chain RPC unavailable")

// ErrSourceBusy: too many lookups of unknown escrows right now.
var ErrSourceBusy = errors.New("too many lookups of unknown API keys; try again shortly")

package receipts

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/events"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// SettledRoots reads from a cluster the receipts root a settle transaction
// recorded: the BatchSettled event inference_meter emitted in it for that
// batch and keeper.
func SettledRoots(client *rpc.Client) RootReader {
	return func(ctx context.Context, sig string, seq uint64, keeper [32]byte) (Hash, error) {
		return settledRoot(ctx, client, sig, seq, keeper)
	}
}

func settledRoot(ctx context.Context, client *rpc.Client, sig string, seq uint64, keeper [32]byte) (Hash, error) {
	s, err := solana.SignatureFromBase58(sig)
	if err != nil {
		return Hash{}, fmt.Errorf("settled signature %q: %w", sig, err)
	}
	payloads, err := events.Fetch(ctx, client, s, im.ProgramID)
	if err != nil {
		return Hash{}, err
	}
	for _, p := range payloads {
		ev, err := im.ParseEvent_BatchSettled(p)
		if err != nil {
			continue
		}
		if ev.BatchSeq == seq && ev.Keeper == solana.PublicKeyFromBytes(keeper[:]) {
			return ev.ReceiptsRoot, nil
		}
	}
	return Hash{}, fmt.Errorf("transaction %s settled no batch %d of keeper %s", sig, seq, solana.PublicKeyFromBytes(keeper[:]))
}

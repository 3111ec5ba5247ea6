// Package tokens builds the few SPL Token / Token-2022 instructions the CLI,
// keeper and tests need (both programs share these instruction layouts) and
// reads token balances and mint decimals.
package tokens

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"
)

const (
	// MintSize is the size of a mint without extensions.
	MintSize = 82
	// AccountSize is the size of a token account without extensions.
	AccountSize = 165

	ixMintTo          = 7
	ixTransferChecked = 12
	ixInitializeMint2 = 20
)

// ErrNotTokenAccount is returned when an account is missing or not a token account or mint.
var ErrNotTokenAccount = errors.New("not a token account")

// IsTokenProgram reports whether p is SPL Token or Token-2022.
func IsTokenProgram(p solana.PublicKey) bool {
	return p.Equals(solana.TokenProgramID) || p.Equals(solana.Token2022ProgramID)
}

// CreateMint returns the instructions that create and initialise `mint` (a
// fresh keypair that must sign) with `decimals` and `authority`, no freeze authority.
func CreateMint(payer, mint, authority solana.PublicKey, decimals uint8, tokenProgram solana.PublicKey, rentLamports uint64) []solana.Instruction {
	create := system.NewCreateAccountInstruction(rentLamports, MintSize, tokenProgram, payer, mint).Build()
	data := make([]byte, 0, 67)
	data = append(data, ixInitializeMint2, decimals)
	data = append(data, authority[:]...)
	data = append(data, 0) // no freeze authority
	init := solana.NewInstruction(tokenProgram, solana.AccountMetaSlice{solana.Meta(mint).WRITE()}, data)
	return []solana.Instruction{create, init}
}

// ATA is the associated token account of wallet for mint.
func ATA(wallet, mint, tokenProgram solana.PublicKey) solana.PublicKey {
	addr, _, err := solana.FindAssociatedTokenAddressWithProgram(wallet, mint, tokenProgram)
	if err != nil {
		panic("tokens: " + err.Error())
	}
	return addr
}

// CreateATAIdempotent creates wallet's associated token account for mint if it does not exist.
func CreateATAIdempotent(payer, wallet, mint, tokenProgram solana.PublicKey) solana.Instruction {
	return solana.NewInstruction(solana.SPLAssociatedTokenAccountProgramID, solana.AccountMetaSlice{
		solana.Meta(payer).WRITE().SIGNER(),
		solana.Meta(ATA(wallet, mint, tokenProgram)).WRITE(),
		solana.Meta(wallet),
		solana.Meta(mint),
		solana.Meta(solana.SystemProgramID),
		solana.Meta(tokenProgram),
	}, []byte{1})
}

// MintTo mints amount base units to destination.
func MintTo(mint, destination, authority solana.PublicKey, amount uint64, tokenProgram solana.PublicKey) solana.Instruction {
	data := binary.LittleEndian.AppendUint64([]byte{ixMintTo}, amount)
	return solana.NewInstruction(tokenProgram, solana.AccountMetaSlice{
		solana.Meta(mint).WRITE(),
		solana.Meta(destination).WRITE(),
		solana.Meta(authority).SIGNER(),
	}, data)
}

// TransferChecked moves amount base units from source to destination.
func TransferChecked(source, mint, destination, owner solana.PublicKey, amount uint64, decimals uint8, tokenProgram solana.PublicKey) solana.Instruction {
	data := binary.LittleEndian.AppendUint64([]byte{ixTransferChecked}, amount)
	data = append(data, decimals)
	return solana.NewInstruction(tokenProgram, solana.AccountMetaSlice{
		solana.Meta(source).WRITE(),
		solana.Meta(mint),
		solana.Meta(destination).WRITE(),
		solana.Meta(owner).SIGNER(),
	}, data)
}

// Account is the part of a token account that callers read.
type Account struct {
	Mint   solana.PublicKey
	Owner  solana.PublicKey
	Amount uint64
}

// GetAccount reads a token account. A missing account is ErrNotTokenAccount.
func GetAccount(ctx context.Context, client *rpc.Client, address solana.PublicKey) (*Account, error) {
	data, owner, err := fetch(ctx, client, address)
	if err != nil {
		return nil, err
	}
	if !IsTokenProgram(owner) || len(data) < AccountSize {
		return nil, fmt.Errorf("%s: %w", address, ErrNotTokenAccount)
	}
	return &Account{
		Mint:   solana.PublicKeyFromBytes(data[0:32]),
		Owner:  solana.PublicKeyFromBytes(data[32:64]),
		Amount: binary.LittleEndian.Uint64(data[64:72]),
	}, nil
}

// Balance is the amount in a token account, 0 if the account does not exist.
func Balance(ctx context.Context, client *rpc.Client, address solana.PublicKey) (uint64, error) {
	acc, err := GetAccount(ctx, client, address)
	if errors.Is(err, ErrNotTokenAccount) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return acc.Amount, nil
}

// Mint is the part of a mint that callers read.
type Mint struct {
	Supply       uint64
	Decimals     uint8
	TokenProgram solana.PublicKey
	// HasMintAuthority is false once the supply is fixed forever.
	HasMintAuthority bool
	// HasFreezeAuthority: someone can freeze the mint's accounts (mt_treasury
	// refuses such a native mint).
	HasFreezeAuthority bool
}

// GetMint reads a mint of either token program.
func GetMint(ctx context.Context, client *rpc.Client, address solana.PublicKey) (*Mint, error) {
	data, owner, err := fetch(ctx, client, address)
	if err != nil {
		return nil, err
	}
	if !IsTokenProgram(owner) || len(data) < MintSize {
		return nil, fmt.Errorf("%s is not a mint: %w", address, ErrNotTokenAccount)
	}
	return &Mint{
		HasMintAuthority:   binary.LittleEndian.Uint32(data[0:4]) == 1,
		Supply:             binary.LittleEndian.Uint64(data[36:44]),
		Decimals:           data[44],
		HasFreezeAuthority: binary.LittleEndian.Uint32(data[46:50]) == 1,
		TokenProgram:       owner,
	}, nil
}

func fetch(ctx context.Context, client *rpc.Client, address solana.PublicKey) ([]byte, solana.PublicKey, error) {
	res, err := client.GetAccountInfoWithOpts(ctx, address, &rpc.GetAccountInfoOpts{Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed})
	if errors.Is(err, rpc.ErrNotFound) {
		return nil, solana.PublicKey{}, fmt.Errorf("%s: %w", address, ErrNotTokenAccount)
	}
	if err != nil {
		return nil, solana.PublicKey{}, fmt.Errorf("get account %s: %w", address, err)
	}
	if res == nil || res.Value == nil {
		return nil, solana.PublicKey{}, fmt.Errorf("%s: %w", address, ErrNotTokenAccount)
	}
	return res.Value.Data.GetBinary(), res.Value.Owner, nil
}

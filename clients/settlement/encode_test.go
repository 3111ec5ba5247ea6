package settlement

import (
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// The vector programs/inference-meter/src/entries.rs checks too.
const crossLanguageVector = "0301010ca846a01f1e00020200851a8b340100ac0200ff010fffffffffffffffffff01000001"

func vectorEntries() []EncodedEntry {
	return []EncodedEntry{
		{Escrow: 3, Shares: []EncodedShare{{1, 10_000}}, Runs: 12, InputTokens: 9_000, OutputTokens: 4_000, ServedOffset: 30},
		{Escrow: 0, Shares: []EncodedShare{{2, 3_333}, {0, 6_667}}, Runs: 1, OutputTokens: 300},
		{Escrow: 255, Shares: []EncodedShare{{15, 10_000}}, Runs: math.MaxUint64, ServedOffset: 1},
	}
}

func TestEncodingMatchesTheProgramByteForByte(t *testing.T) {
	var data []byte
	for _, e := range vectorEntries() {
		data = AppendEntry(data, e)
	}
	if got := hex.EncodeToString(data); got != crossLanguageVector {
		t.Fatalf("encoded = %s\nwant      %s", got, crossLanguageVector)
	}
	back, err := DecodeEntries(data)
	if err != nil || !reflect.DeepEqual(back, vectorEntries()) {
		t.Fatalf("decoded = %+v, %v", back, err)
	}
}

func TestDecodingIsAsStrictAsTheProgram(t *testing.T) {
	cases := map[string]struct {
		hex  string
		want error
	}{
		"truncated":              {"0301010ca846a01f", meter.ErrInvalidEntryEncoding},
		"non-canonical varint":   {"0001008100000000", meter.ErrInvalidEntryEncoding},
		"varint above u64":       {"00010001ffffffffffffffffff020000", meter.ErrInvalidEntryEncoding},
		"no models":              {"0000", meter.ErrTooManyModels},
		"nine models":            {"0009", meter.ErrTooManyModels},
		"weight above u16":       {"0002000180800488270100000000", meter.ErrWeightsDoNotSum},
		"eleven-byte varint run": {"00010080808080808080808080010000", meter.ErrInvalidEntryEncoding},
	}
	for name, c := range cases {
		data, _ := hex.DecodeString(c.hex)
		_, err := DecodeEntries(data)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error = %v, want %v", name, err, c.want)
		}
	}
}

func key(b byte) solana.PublicKey {
	var k solana.PublicKey
	k[0] = b
	return k
}

func TestBuildSortsAndIndexesAccounts(t *testing.T) {
	a, b, c := key(3), key(1), key(2)
	e1, e2 := key(9), key(7)
	l, err := Build(5, [32]byte{1}, Runs{1, 1 << 40}, []Entry{
		Single(e1, a, 1, 1_000, 10, 110),
		{Escrow: e2, Shares: []Share{{a, 5_000}, {b, 2_500}, {c, 2_500}}, Runs: 2, InputTokens: 5, ServedAt: 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Models, []solana.PublicKey{b, c, a}) || !reflect.DeepEqual(l.Escrows, []solana.PublicKey{e2, e1}) {
		t.Fatalf("models %v escrows %v", l.Models, l.Escrows)
	}
	if l.Args.BatchSeq != 5 || l.Args.ServedBase != 100 || l.Args.ModelCount != 3 {
		t.Fatalf("args = %+v", l.Args)
	}
	got, err := DecodeEntries(l.Args.Entries)
	if err != nil {
		t.Fatal(err)
	}
	want := []EncodedEntry{
		{Escrow: 1, Shares: []EncodedShare{{2, 10_000}}, Runs: 1, InputTokens: 1_000, OutputTokens: 10, ServedOffset: 10},
		{Escrow: 0, Shares: []EncodedShare{{2, 5_000}, {0, 2_500}, {1, 2_500}}, Runs: 2, InputTokens: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries = %+v\nwant %+v", got, want)
	}
	rem := l.RemainingAccounts(func(m solana.PublicKey) (solana.PublicKey, solana.PublicKey) { return key(m[0] + 100), key(m[0] + 200) })
	wantKeys := []solana.PublicKey{b, key(101), key(201), c, key(102), key(202), a, key(103), key(203), e2, e1}
	for i, m := range rem {
		if !m.PublicKey.Equals(wantKeys[i]) || !m.IsWritable || m.IsSigner {
			t.Fatalf("remaining[%d] = %+v, want writable %s", i, m, wantKeys[i])
		}
	}
}

func TestBuildRefusesWhatTheProgramRefuses(t *testing.T) {
	m, n, e := key(1), key(2), key(9)
	cases := map[string]struct {
		entries []Entry
		want    error
	}{
		"empty":         {nil, meter.ErrEmptyBatch},
		"weights short": {[]Entry{{Escrow: e, Shares: []Share{{m, 5_000}, {n, 4_999}}, Runs: 1}}, meter.ErrWeightsDoNotSum},
		"zero weight":   {[]Entry{{Escrow: e, Shares: []Share{{m, 10_000}, {n, 0}}, Runs: 1}}, meter.ErrInvalidWeights},
		"model twice":   {[]Entry{{Escrow: e, Shares: []Share{{m, 5_000}, {m, 5_000}}, Runs: 1}}, meter.ErrInvalidWeights},
		"no models":     {[]Entry{{Escrow: e, Runs: 1}}, meter.ErrTooManyModels},
		"zero runs":     {[]Entry{Single(e, m, 0, 1, 1, 0)}, meter.ErrZeroRuns},
		"17 models":     {seventeenModels(e), meter.ErrTooManyModels},
	}
	for name, c := range cases {
		if _, err := Build(1, [32]byte{}, Runs{1, 1 << 40}, c.entries); !errors.Is(err, c.want) {
			t.Errorf("%s: error = %v, want %v", name, err, c.want)
		}
	}
}

func seventeenModels(escrow solana.PublicKey) []Entry {
	var out []Entry
	for i := 0; i < 17; i++ {
		out = append(out, Single(escrow, key(byte(i+10)), 1, 1, 1, 0))
	}
	return out
}

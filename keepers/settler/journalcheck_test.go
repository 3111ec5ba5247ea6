package settler

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
)

// The state file is the second witness of history when the journal is
// empty or new: batches in flight or lookup tables mean this keeper
// settled before.
func TestStateFileWitnessesHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db.settler.json")
	keeper := solana.NewWallet().PublicKey()
	s, err := openStore(path, keeper)
	if err != nil {
		t.Fatal(err)
	}
	if h := s.history(); h != "" {
		t.Fatalf("a new state file records %q", h)
	}
	if err := s.setTables([]TableRecord{{Address: keeper}}); err != nil {
		t.Fatal(err)
	}
	if h := s.history(); h != "" {
		t.Fatalf("a table whose creation never landed is not history: %q", h)
	}
	if err := s.setTables([]TableRecord{{Address: keeper, Created: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.putPlan(&Plan{Seq: 4}); err != nil {
		t.Fatal(err)
	}
	h := s.history()
	if !strings.Contains(h, "#4") || !strings.Contains(h, "1 lookup tables") {
		t.Fatalf("history %q", h)
	}
	e := &JournalBehindError{Journal: "/j.db", StateFile: path, StateHistory: h}
	if msg := e.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "--accept-journal-loss") || strings.Contains(msg, "\n") {
		t.Fatalf("message %q", msg)
	}
}

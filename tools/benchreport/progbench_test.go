package main

import "testing"

func TestParseTablesReadsEveryTable(t *testing.T) {
	text := `progress line
| settle batch shape | transaction | max entries |
|---|---|--:|
| one entry per escrow, one model | legacy | 9 |
| one entry per escrow, one model | v0 + lookup table | 44 |

Limits: …
| program | instruction | tx bytes (limit 1232, target ≤ 900) | CU (local chain: not meaningful) |
|---|---|--:|--:|
| mt_treasury | init_protocol | 451 | 2835 |
`
	ts := parseTables(text)
	if len(ts) != 2 {
		t.Fatalf("%d tables, want 2", len(ts))
	}
	if c := ts[0].col("max entries"); c != 2 || ts[0].Rows[1][c] != "44" || len(ts[0].Rows) != 2 {
		t.Errorf("capacity table: %+v", ts[0])
	}
	if c := ts[1].col("tx bytes"); c != 2 || ts[1].Rows[0][c] != "451" || ts[1].col("CU") != 3 || ts[1].col("nothing") != -1 {
		t.Errorf("instruction table: %+v", ts[1])
	}
}

func TestGroupedDigits(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1 000", 152126.4: "152 126", 1234567: "1 234 567"} {
		if got := grouped(in); got != want {
			t.Errorf("grouped(%v) = %q, want %q", in, got, want)
		}
	}
}

package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The JSON tools/keeperbench writes (--json).

type latency struct {
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	N      int     `json:"n"`
	Errors int     `json:"errors"`
}

type gatewayResult struct {
	Streaming    bool    `json:"streaming"`
	OutputTokens int     `json:"output_tokens"`
	StepSeconds  float64 `json:"step_seconds"`
	FsyncP50Ms   float64 `json:"fsync_p50_ms"`
	FsyncP99Ms   float64 `json:"fsync_p99_ms"`
	// Keeper is where the keeper ran: "process" (its own, as in
	// production) or "in-process".
	Keeper string `json:"keeper"`
	Steps  []struct {
		Rate              int      `json:"rate"`
		Direct            latency  `json:"direct"`
		Keeper            latency  `json:"keeper"`
		LiteLLM           *latency `json:"litellm"`
		LiteLLMSkipped    bool     `json:"litellm_skipped"`
		ReceiptsPerCommit float64  `json:"receipts_per_commit"`
		MeanCommitMs      float64  `json:"mean_commit_ms"`
	} `json:"steps"`
}

// llamacppResult is keeperbench llamacpp's JSON.
type llamacppResult struct {
	OutputTokens int `json:"output_tokens"`
	Requests     int `json:"requests"`
	Rows         []struct {
		Streaming bool    `json:"streaming"`
		Direct    latency `json:"direct"`
		Keeper    latency `json:"keeper"`
	} `json:"rows"`
}

type limitsResult struct {
	Rate     int     `json:"rate"`
	WindowS  float64 `json:"window_s"`
	Accuracy []struct {
		Limit     string  `json:"limit"`
		Keys      int     `json:"keys"`
		PerKey    int64   `json:"budget_per_key_per_min"`
		Offered   int     `json:"offered"`
		Admitted  int64   `json:"admitted"`
		Expected  float64 `json:"expected"`
		Allowance float64 `json:"allowance"`
		ErrorPct  float64 `json:"error_pct"`
		Within1   bool    `json:"within_1pct"`
	} `json:"accuracy"`
	Latency []struct {
		Round  int     `json:"round"`
		Direct latency `json:"direct"`
		Off    latency `json:"off"`
		On     latency `json:"on"`
	} `json:"latency"`
	AddedOffP50 float64 `json:"added_p50_off_ms"`
	AddedOnP50  float64 `json:"added_p50_on_ms"`
	GrowthMs    float64 `json:"p50_growth_ms"`
}

type journalResult struct {
	Steps []struct {
		Writers        int     `json:"writers"`
		ReceiptsPerSec float64 `json:"receipts_per_sec"`
		PerCommit      float64 `json:"receipts_per_commit"`
		P50Ms          float64 `json:"record_p50_ms"`
		P99Ms          float64 `json:"record_p99_ms"`
		LowerBound     bool    `json:"lower_bound"`
	} `json:"steps"`
	FsyncBaselinePerS float64 `json:"fsync_baseline_per_sec"`
}

type journalSize struct {
	Receipts       int     `json:"receipts"`
	RecordedBytes  int64   `json:"recorded_bytes"`
	SettledBytes   int64   `json:"settled_bytes"`
	CompactedBytes int64   `json:"compacted_bytes"`
	PrunedBytes    int64   `json:"pruned_compacted_bytes"`
	CompactSeconds float64 `json:"compact_seconds"`
}

// Targets (README, issues 5 and 7, this issue).
const (
	targetTxBytes      = 900
	targetEntries      = 20
	targetAddedP50Ms   = 0.3
	targetAddedP99Ms   = 2.0
	targetReceiptsPerS = 50_000
	targetRSSBytes     = 256 << 20
	targetLimitPct     = 1.0
	targetLimitGrowth  = 0.05
)

func yes(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
func mib(b int64) string  { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// grouped renders an integer with thin spaces every three digits.
func grouped(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	return strings.Join(append([]string{s}, out...), " ")
}

// render writes the report: a summary table (each figure with its target)
// and one section per benchmark.
func render(r *results, o options) string {
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	w("# Benchmark report (%s)\n\n", r.Date)
	w("Machine: %s, shared by the load generator, the keeper, the worker simulators and the local chain. All traffic on 127.0.0.1. Command: `./scripts/bench.sh`.\n\n", r.Machine)

	type line struct{ figure, measured, target, met string }
	var sum []line
	p := r.Programs
	if p != nil {
		n := 0
		var over []string
		ci, si := p.Instructions.col("tx bytes"), p.Instructions.col("CU")
		for _, row := range p.Instructions.Rows {
			f := strings.Fields(row[ci])
			// The settle capacity rows fill a transaction to its limit by design.
			if strings.HasPrefix(row[p.Instructions.col("instruction")], "settle (") && strings.Contains(row[p.Instructions.col("instruction")], "entries)") {
				continue
			}
			if v, err := strconv.Atoi(f[0]); err == nil && v > targetTxBytes {
				over = append(over, fmt.Sprintf("%s (%d bytes)", row[p.Instructions.col("instruction")], v))
			}
			n++
		}
		cu := "not metered: the local chain runs the programs natively (set MC_RPC_URL to an SBF validator)"
		if p.UnitsReal && si >= 0 {
			maxCU := 0
			for _, row := range p.Instructions.Rows {
				if v, err := strconv.Atoi(row[si]); err == nil {
					maxCU = max(maxCU, v)
				}
			}
			cu = fmt.Sprintf("max %s CU over %d instructions (see below)", grouped(float64(maxCU)), n)
		}
		sum = append(sum, line{"compute units per instruction", cu, "≤ 200 000 per instruction (Solana's default limit)", "–"})
		overs := "none"
		if len(over) > 0 {
			overs = strings.Join(over, "; ")
		}
		sum = append(sum, line{fmt.Sprintf("instructions over 900 bytes, of %d measured (settle batches filled to the limit aside)", n), overs, "none over 900 bytes (limit 1 232)", yes(len(over) == 0)})
		for _, row := range p.Capacity.Rows {
			if !strings.HasPrefix(row[0], "one entry per escrow, one model") {
				continue
			}
			entries, _ := strconv.Atoi(row[p.Capacity.col("max entries")])
			fees := strings.Split(row[len(row)-1], "/")
			fee10 := strings.TrimSpace(fees[min(1, len(fees)-1)])
			if strings.Contains(row[1], "lookup") {
				sum = append(sum, line{"settle entries per transaction, lookup table (distinct escrows)", strconv.Itoa(entries), "≥ 20", yes(entries >= targetEntries)})
				sum = append(sum, line{"fees per 1 000 settled runs (10 runs per entry, table)", fee10 + " lamports", "–", "–"})
			} else {
				sum = append(sum, line{"settle entries per transaction, legacy (no table)", strconv.Itoa(entries), "–", "–"})
			}
		}
	}
	if g := r.Gateway; g != nil && len(g.Steps) > 0 {
		last := g.Steps[len(g.Steps)-1]
		add50, add99 := last.Keeper.P50Ms-last.Direct.P50Ms, last.Keeper.P99Ms-last.Direct.P99Ms
		valid := last.Direct.Errors == 0 && last.Keeper.Errors == 0 && add50 >= 0
		met := yes(valid && add50 < targetAddedP50Ms && add99 < targetAddedP99Ms)
		meas := fmt.Sprintf("%s / %s ms", f2(add50), f2(add99))
		if !valid {
			meas += fmt.Sprintf(" (not valid: %d + %d errors)", last.Direct.Errors, last.Keeper.Errors)
		}
		sum = append(sum, line{fmt.Sprintf("gateway added latency at %d req/s, p50 / p99 (durable journal)", last.Rate), meas, "< 0.3 / < 2 ms", met})
		for _, s := range g.Steps {
			if s.LiteLLM == nil || s.LiteLLM.Errors > 0 || s.LiteLLM.P50Ms > 1000 {
				continue
			}
			ours, theirs := s.Keeper.P50Ms-s.Direct.P50Ms, s.LiteLLM.P50Ms-s.Direct.P50Ms
			if theirs > 0 {
				sum = append(sum, line{fmt.Sprintf("added p50 as a share of LiteLLM's, at %d req/s (highest rate LiteLLM kept up with)", s.Rate),
					fmt.Sprintf("%s (ours %s ms, LiteLLM %s ms)", f2(ours/theirs), f2(ours), f1(theirs)), "< 1", yes(ours < theirs)})
			}
		}
		if n := len(sum); n > 0 && strings.HasPrefix(sum[n-1].figure, "added p50 as a share") {
			// keep only the highest such rate
			var kept []line
			var lastShare line
			for _, l := range sum {
				if strings.HasPrefix(l.figure, "added p50 as a share") {
					lastShare = l
					continue
				}
				kept = append(kept, l)
			}
			sum = append(kept, lastShare)
		}
	}
	if lr := r.Limits; lr != nil && len(lr.Accuracy) > 0 {
		for _, a := range lr.Accuracy {
			sum = append(sum, line{fmt.Sprintf("per-key %s limit at %d req/s (%d keys, a tenth of their load): admitted vs budget (one full bucket + refill over %s s)", a.Limit, lr.Rate, a.Keys, f1(lr.WindowS)),
				fmt.Sprintf("%d vs %s (%+.2f %%)", a.Admitted, grouped(a.Expected), a.ErrorPct), "within 1 %", yes(a.Within1)})
		}
		sum = append(sum, line{fmt.Sprintf("added p50 with per-key limits on vs off at %d req/s (median of %d paired rounds)", lr.Rate, len(lr.Latency)),
			fmt.Sprintf("%+.3f ms (off %s, on %s ms)", lr.GrowthMs, f2(lr.AddedOffP50), f2(lr.AddedOnP50)), "≤ +0.05 ms", yes(lr.GrowthMs <= targetLimitGrowth)})
	}
	if lc := r.LlamaCpp; lc != nil {
		for _, row := range lc.Rows {
			mode := "non-streamed"
			if row.Streaming {
				mode = "streamed"
			}
			// p50 only: with one request at a time the p99 is the server's
			// and the machine's tail (see the section below).
			sum = append(sum, line{fmt.Sprintf("keeper added latency in front of a real llama-server, %s, p50 (%d sequential requests, durable journal)", mode, lc.Requests),
				fmt.Sprintf("%s ms (server alone %s ms, through the keeper %s ms)", f2(row.Keeper.P50Ms-row.Direct.P50Ms), f2(row.Direct.P50Ms), f2(row.Keeper.P50Ms)), "–", "–"})
		}
	}
	if j := r.Journal; j != nil && len(j.Steps) > 0 {
		best := 0.0
		for _, s := range j.Steps {
			best = max(best, s.ReceiptsPerSec)
		}
		sum = append(sum, line{"journal durable receipts/s (best step)", grouped(best), "≥ 50 000", yes(best >= targetReceiptsPerS)})
	}
	if l := r.Load; l != nil {
		best := loadStep{}
		for _, s := range l.Steps {
			if s.Sustained && s.Achieved > best.Achieved {
				best = s
			}
		}
		v := "none of the steps"
		if best.Rate > 0 {
			v = fmt.Sprintf("%s req/s (p99 %s ms, settlement lag ≤ %s s)", grouped(best.Achieved), f1(best.P99Ms), f1(best.MaxLagS))
		}
		sum = append(sum, line{"end to end: requests/s one keeper sustains, settling on chain", v, "settlement keeps up (lag ≤ 10 s, backlog drained ≤ 10 s)", yes(best.Rate > 0)})
		if m := l.Memory; m != nil {
			sum = append(sum, line{fmt.Sprintf("keeper resident memory, %d concurrent streaming clients", m.Clients),
				fmt.Sprintf("%s peak (%s idle; %s streams/s)", mib(m.PeakRSS), mib(m.IdleRSS), grouped(m.StreamsPerS)), "≤ 256 MB", yes(m.PeakRSS <= targetRSSBytes && m.PeakRSS > 0)})
		}
	}
	if js := r.JournalSize; js != nil && js.Receipts > 0 {
		scale := 1e6 / float64(js.Receipts)
		per := func(b int64) string { return mib(int64(float64(b) * scale)) }
		sum = append(sum, line{"journal file per million receipts: recorded → settled → compacted (retained) → pruned + compacted",
			fmt.Sprintf("%s → %s → %s → %s", per(js.RecordedBytes), per(js.SettledBytes), per(js.CompactedBytes), mib(js.PrunedBytes)), "bounded by compaction", yes(js.CompactedBytes < js.SettledBytes)})
	}
	w("| figure | measured | target | met |\n|---|---|---|:-:|\n")
	for _, l := range sum {
		w("| %s | %s | %s | %s |\n", l.figure, l.measured, l.target, l.met)
	}

	if p != nil {
		w("\n## Programs (tools/progbench)\n\n")
		if p.UnitsReal {
			w("Against %s: compute units from simulateTransaction of each instruction as the CLI sends it.\n\n", p.URL)
		} else {
			w("The local chain runs the programs natively as builtins, so it cannot meter compute units (each reports a token figure, left out here). Run `MC_RPC_URL=<an SBF validator> ./scripts/bench.sh` for real figures.\n\n")
		}
		ci, si, ii, pi := p.Instructions.col("tx bytes"), p.Instructions.col("CU"), p.Instructions.col("instruction"), p.Instructions.col("program")
		w("| program | instruction | tx bytes (target ≤ 900) | compute units |\n|---|---|--:|--:|\n")
		for _, row := range p.Instructions.Rows {
			cu := "n/a (local chain)"
			if p.UnitsReal && si >= 0 {
				cu = row[si]
			}
			w("| %s | %s | %s | %s |\n", row[pi], row[ii], row[ci], cu)
		}
		w("\nSettlement density (progbench's meter suite: the largest settle batch of each shape that landed):\n\n")
		w("| %s |\n|%s\n", strings.Join(p.Capacity.Header, " | "), strings.Repeat("---|", len(p.Capacity.Header)))
		for _, row := range p.Capacity.Rows {
			w("| %s |\n", strings.Join(row, " | "))
		}
	}
	if g := r.Gateway; g != nil {
		w("\n## Gateway overhead (tools/keeperbench gateway)\n\n")
		w("Non-streaming chat requests (%d output tokens), open loop, %s s per step and target, latency from each request's scheduled send time; the same workersim (no latency of its own) behind the keeper (%s; durable journal, receipts signed), directly, and behind LiteLLM %s (`litellm[proxy]`, one worker process per core, master key, 127.0.0.1; its requests give up after 10 s, counted as errors). Journal fsync on this disk: p50 %s ms, p99 %s ms.\n\n",
			g.OutputTokens, f1(g.StepSeconds), keeperPlace(g.Keeper), orDash(r.LiteLLM), f2(g.FsyncP50Ms), f2(g.FsyncP99Ms))
		w("| req/s | direct p50 / p99 | keeper p50 / p99 | keeper added p50 / p99 | LiteLLM p50 / p99 | LiteLLM added p50 / p99 | LiteLLM errors | ours / LiteLLM's added p50 | p99 |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range g.Steps {
			la, le, lr50, lr99 := "–", "–", "–", "–"
			if s.LiteLLMSkipped {
				la = "not sent: saturated at a lower rate"
			}
			if l := s.LiteLLM; l != nil {
				la = fmt.Sprintf("%s / %s", f1(l.P50Ms), f1(l.P99Ms))
				le = fmt.Sprintf("%s / %s", f1(l.P50Ms-s.Direct.P50Ms), f1(l.P99Ms-s.Direct.P99Ms))
				if d := l.P50Ms - s.Direct.P50Ms; d > 0 {
					lr50 = f2((s.Keeper.P50Ms - s.Direct.P50Ms) / d)
				}
				if d := l.P99Ms - s.Direct.P99Ms; d > 0 {
					lr99 = f2((s.Keeper.P99Ms - s.Direct.P99Ms) / d)
				}
				if l.Errors > 0 {
					lr50 += " (LiteLLM saturated)"
				}
			}
			errs := "–"
			if s.LiteLLM != nil {
				errs = fmt.Sprintf("%d / %d", s.LiteLLM.Errors, s.LiteLLM.N)
			}
			w("| %d | %s / %s | %s / %s | %s / %s | %s | %s | %s | %s | %s |\n", s.Rate, f2(s.Direct.P50Ms), f2(s.Direct.P99Ms), f2(s.Keeper.P50Ms), f2(s.Keeper.P99Ms),
				f2(s.Keeper.P50Ms-s.Direct.P50Ms), f2(s.Keeper.P99Ms-s.Direct.P99Ms), la, le, errs, lr50, lr99)
		}
	}
	if lr := r.Limits; lr != nil && len(lr.Latency) > 0 {
		w("\n## Per-key limits (tools/keeperbench limits)\n\n")
		w("%d req/s over 20 API keys through the gateway (durable journal); the accuracy run gives half the keys a requests-per-minute budget and half a tokens-per-minute budget, a tenth of what each is offered, from fresh buckets (a bucket starts full: one minute's budget is the burst). The cost rounds run the worker alone, then the gateway with limits off and on (every key limited, budgets too large to bind), the order alternating.\n\n", lr.Rate)
		w("| round | direct p50 (ms) | added p50 limits off | added p50 limits on | on − off |\n|--:|--:|--:|--:|--:|\n")
		for _, l := range lr.Latency {
			w("| %d | %s | %s | %s | %+.3f |\n", l.Round, f2(l.Direct.P50Ms), f2(l.Off.P50Ms-l.Direct.P50Ms), f2(l.On.P50Ms-l.Direct.P50Ms), l.On.P50Ms-l.Off.P50Ms)
		}
	}
	if j := r.Journal; j != nil {
		w("\n## Journal (tools/keeperbench journal, journal-size)\n\n")
		w("| writers | durable receipts/s | receipts per commit | Record p50 / p99 (ms) |\n|--:|--:|--:|--:|\n")
		for _, s := range j.Steps {
			lb := ""
			if s.LowerBound {
				lb = " (lower bound)"
			}
			w("| %d | %s%s | %s | %s / %s |\n", s.Writers, grouped(s.ReceiptsPerSec), lb, f1(s.PerCommit), f2(s.P50Ms), f2(s.P99Ms))
		}
		w("| baseline: one 4 KiB write + fsync per receipt | %s | 1 | |\n", grouped(j.FsyncBaselinePerS))
	}
	if lc := r.LlamaCpp; lc != nil && len(lc.Rows) > 0 {
		w("\n## In front of a real llama.cpp llama-server (tools/keeperbench llamacpp)\n\n")
		w("The pinned llama-server (scripts/setup.sh) with the tiny test model, called directly and through the gateway (durable journal), %d chat requests each, one at a time, the two interleaved with the order alternating; %d output tokens (ignore_eos), time to the last byte.\n\n", lc.Requests, lc.OutputTokens)
		w("| mode | server alone p50 / p99 (ms) | through the keeper p50 / p99 | added p50 / p99 |\n|:--|--:|--:|--:|\n")
		for _, row := range lc.Rows {
			mode := "non-streamed"
			if row.Streaming {
				mode = "streamed"
			}
			w("| %s | %s / %s | %s / %s | %s / %s |\n", mode, f2(row.Direct.P50Ms), f2(row.Direct.P99Ms), f2(row.Keeper.P50Ms), f2(row.Keeper.P99Ms),
				f2(row.Keeper.P50Ms-row.Direct.P50Ms), f2(row.Keeper.P99Ms-row.Direct.P99Ms))
		}
	}
	if js := r.JournalSize; js != nil && js.Receipts > 0 {
		w("\nFile size, %s receipts from 1 000 escrows (settled in batches of 20 000, as the settler does): recorded %s, after settlement %s (bbolt keeps freed pages), compacted while still retained %s (%s s), after the retention window pruned them and compaction %s.\n",
			grouped(float64(js.Receipts)), mib(js.RecordedBytes), mib(js.SettledBytes), mib(js.CompactedBytes), f1(js.CompactSeconds), mib(js.PrunedBytes))
	}
	if l := r.Load; l != nil {
		w("\n## End to end: one keeper settling on a local chain\n\n")
		w("`keeper run` with settlement (1 s rounds, lookup tables) in front of a workersim, %d escrows (API keys) of the demo's model, non-streaming chat requests (16 output tokens) open loop; the settlement lag is the keeper's own (age of the oldest served run not yet settled), sampled every 0.5 s. Sustained: no errors, lag ≤ 10 s during the step, backlog settled ≤ 10 s after it.\n\n", l.Escrows)
		w("| offered req/s | served | errors | p50 / p99 (ms) | max settlement lag (s) | drained after (s) | batches | sustained |\n|--:|--:|--:|--:|--:|--:|--:|:-:|\n")
		for _, s := range l.Steps {
			w("| %d | %s/s | %d | %s / %s | %s | %s | %d | %s |\n", s.Rate, grouped(s.Achieved), s.Errors, f1(s.P50Ms), f1(s.P99Ms), f1(s.MaxLagS), f1(s.DrainS), s.Batches, yes(s.Sustained))
		}
		if m := l.Memory; m != nil {
			w("\nMemory: %d concurrent streaming clients for %s s (40 tokens at 50 ms each from a second workersim): %s streams completed (%s/s), %d errors; keeper resident memory peak %s (idle before: %s); settlement lag ≤ %s s.\n",
				m.Clients, f1(m.Seconds), grouped(float64(m.Streams)), grouped(m.StreamsPerS), m.Errors, mib(m.PeakRSS), mib(m.IdleRSS), f1(m.MaxLagS))
		}
	}
	return sb.String()
}

func orDash(s string) string {
	if s == "" {
		return "(not run)"
	}
	return s
}

// keeperPlace says where the gateway benchmark's keeper ran.
func keeperPlace(k string) string {
	if k == "in-process" {
		return "in the benchmark's own process"
	}
	return "in its own process, as in production"
}

package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// printSettlement adds the settlement lines to `keeper status`.
func printSettlement(tw *tabwriter.Writer, st *keeperapi.SettlementStatus) {
	if st == nil {
		fmt.Fprintf(tw, "settlement\toff (set [settle] node)\n")
		return
	}
	if st.Node == "" {
		fmt.Fprintf(tw, "settlement\toff; cranks %v\n", onOff(st.Cranks))
		return
	}
	chain := "unknown"
	if st.ChainKnown {
		chain = fmt.Sprint(st.ChainLastBatch)
	}
	fmt.Fprintf(tw, "settlement\tnode %s; last settled batch: journal #%d, chain #%s; lag %.0fs; cranks %s\n",
		st.Node, st.LocalLastSettled, chain, st.LagSeconds, onOff(st.Cranks))
	chainRun := "unknown"
	if st.ChainKnown {
		chainRun = fmt.Sprint(st.ChainLastRunSeq)
	}
	fmt.Fprintf(tw, "run numbers\tchain settled up to #%s; journal assigned up to #%d\n", chainRun, st.JournalRunSeq)
	if p := st.Pending; p != nil {
		fmt.Fprintf(tw, "in flight\tbatch #%d %s, %d runs, %d transaction(s)\n", p.Seq, p.State, p.Runs, p.Sends)
	}
	if len(st.LookupTables)+len(st.RetiredLookupTables) > 0 {
		fmt.Fprintf(tw, "lookup tables\t%d live, %d retired (closed once deactivated)\n", len(st.LookupTables), len(st.RetiredLookupTables))
	}
	if st.LastError != "" {
		fmt.Fprintf(tw, "last error\t%s\n", st.LastError)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// provenPage is `keeper receipts --escrow … --output json`: the page and
// each receipt's proof against its batch's on-chain root.
type provenPage struct {
	gateway.ReceiptPage
	Proofs []receipts.ProofCheck `json:"proofs"`
}

// printProvenReceipts prints a receipt page with each receipt's Merkle
// proof checked against the root its settle transaction recorded on chain,
// read with client (nil: "unchecked", only the keeper's own root is
// compared).
func printProvenReceipts(c *cli.Context, q keeperapi.ReceiptQuery, client *rpc.Client, page gateway.ReceiptPage, want solana.PublicKey) error {
	verified, err := keeperapi.VerifyPage(page, want)
	if err != nil {
		return fmt.Errorf("verification failed: %w", err)
	}
	proofs, err := keeperapi.FetchReceiptProofs(c.Context, q)
	if err != nil {
		return fmt.Errorf("receipt proofs: %w", err)
	}
	checks := keeperapi.CheckProofs(c.Context, client, verified, proofs)
	if c.String("output") == "json" {
		return printJSON(c.App.Writer, provenPage{ReceiptPage: page, Proofs: checks})
	}
	if err := printReceipts(c, page, want); err != nil {
		return err
	}
	return printChecks(c.App.Writer, checks)
}

// clusterClient is an RPC client for a cluster name or URL ("" → none).
func clusterClient(name string) (*rpc.Client, error) {
	if name == "" {
		return nil, nil
	}
	url, err := cluster.ResolveURL(name)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	return rpc.New(url), nil
}

func printChecks(w io.Writer, checks []receipts.ProofCheck) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tBATCH\tPROOF\tON-CHAIN ROOT\tSETTLED BY")
	counts := map[string]int{}
	for _, ch := range checks {
		counts[ch.Status]++
		batch, root, sig := "-", "-", "-"
		if ch.BatchSeq != 0 {
			batch = fmt.Sprint(ch.BatchSeq)
		}
		if ch.OnChainRoot != "" {
			root = ch.OnChainRoot[:16] + "…"
		}
		if ch.Signature != "" {
			sig = ch.Signature
		}
		status := ch.Status
		if ch.Error != "" {
			status += ": " + ch.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ch.RunID, batch, status, root, sig)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "proofs: %d verified against the on-chain root, %d pending, %d unchecked, %d failed\n",
		counts["verified"], counts["pending"], counts["unchecked"], counts["failed"])
	if counts["failed"] > 0 {
		return fmt.Errorf("%d receipt proofs failed", counts["failed"])
	}
	return nil
}

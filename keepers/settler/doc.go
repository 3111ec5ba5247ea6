// Package settler turns the keeper's journaled run receipts into
// inference_meter `settle` transactions, exactly once.
//
// # What a batch is
//
// Each round the settler takes the recorded receipts in run-number order
// (the journal numbers runs 1, 2, 3, …) and settles a prefix of them: once
// a receipt is left out — not settleable yet (served after the chain's
// clock), or the transaction is full — no later-numbered receipt goes into
// the batch, because the batch carries its run range and the chain accepts
// only ranges starting above the node's last settled run (last_run_seq);
// a run numbered below a settled range could never settle. Written-off
// receipts are simply skipped (ranges may have gaps). The prefix is
// aggregated into settle entries per (escrow, model mixture, price epoch) — an
// escrow whose key was rotated is charged at its `rotated_to` escrow, and
// runs on either side of a price switch or of the chain clock go into
// separate entries — and packs as many entries as fit one transaction
// (1 232 bytes, at most 64 accounts, at most Config.MaxModels models),
// through address lookup tables it creates and extends for the node. The
// receipts are assigned to the node's next sequence number in the journal
// (whose Merkle root the transaction records on chain), and the exact
// settle instruction is written to the settler's state file before any
// transaction carrying it is signed.
//
// Every time the settler compares is the chain's: receipts are dated by
// the gateway with the keeper's estimate of the chain's clock
// (keepers/chainclock), and each round judges them — before the node's
// registration (written off), after the chain's clock (deferred), on which
// side of each model's price switch, past the closed-escrow grace — against
// the Clock sysvar read with the node in the same call. That reading also
// goes to the shared clock (Config.Clock).
//
// # Guarantees
//
// A run is charged at most once: the program accepts only sequence number
// last_batch_seq + 1, and the settler never gives a sequence number two
// contents while one of them might still land. Every transaction is durable
// in the state file and recorded in the journal (MarkSent) before it is
// put on the wire. A sent batch is re-sent as it is — the same bytes while
// its blockhash is valid, the same instruction under a new blockhash once
// the old one has expired and its signature is absent — and is rebuilt
// (under the same sequence number, e.g. without the runs of an escrow that
// was closed) only once it is known not to have landed: every transaction
// sent for it failed on chain or expired unseen, and the chain's
// last_batch_seq is still below it. On start, and every round, the chain
// decides: a journal batch at or below the node's last_batch_seq is marked
// settled (after checking, when none of its own signatures is found, that
// the batch event at that sequence carries its Merkle root); the next one is
// driven to a conclusion before anything new is batched.
//
// A run is also settled at most once by number: a journal restored from an
// old copy would number runs the chain settled already, so the keeper
// checks its journal against the node's last_run_seq and last_batch_seq
// before it starts (CheckJournal) and refuses to start when it is behind,
// unless the operator accepts the loss (the stale runs are then written
// off and new runs numbered above the chain's mark).
//
// No served run is lost: receipts leave Recorded only into a batch, and a
// batch that cannot land returns its receipts to Recorded. Receipts that
// can never be paid (their escrow closed, a model the escrow does not
// allow, no lane for this node in the escrow — never opened or revoked —,
// a run served before the node registered or longer than the settlement
// window ago, a run number the chain settled already, a domain member's run
// served outside its membership or after its notice, a lane left by an
// earlier domain at the address) are written off in the journal with the
// reason, and counted.
//
// RPC faults (timeouts, HTTP 429, a node behind, a dropped connection) are
// retried with exponential backoff; every step can be repeated after a
// crash at any point because all progress is in the journal, the state
// file and the chain.
//
// # Reading the code
//
// The files follow one batch: round.go (what a round does with the batch in
// flight), plan.go (which receipts go into the next batch), build.go (the
// settle instruction, packed and simulated, stored as a Plan), send.go
// (signed, recorded, put on the wire), confirm.go (landed, failed or
// expired) and retire.go (marked settled, or failed and rebatched).
// failure.go names what went wrong; chain.go holds the reads, tables.go the
// lookup tables, store.go the state file and status.go the lag and Status.
//
// # Not guaranteed
//
// The settler trusts its one RPC endpoint to answer consistently (a load
// balancer over nodes at different slots could show an older state; the
// sequence check on chain still prevents a double charge). A batch whose
// settle event has been pruned from the endpoint's history is assumed to be
// the keeper's own when one of its signatures was sent. Only one settler
// may run per node key: two would race for sequence numbers (each batch
// still settles at most once, but a loser's receipts would be rebatched).
package settler

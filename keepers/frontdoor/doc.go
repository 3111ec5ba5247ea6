// Package frontdoor is the keeper as a domain's front door (keeper run
// --domain): it authenticates a user's API key and admits the request
// against the escrow's lane to the domain (keepers/gateway's own checks,
// through gateway.Admitter), reserves its worst-case cost, and routes it to
// the healthy member gateway with the fewest requests in flight, relaying
// the answer unchanged (JSON or SSE, byte for byte). A member that fails
// before the first byte reaches the client is replaced by another (at most
// MaxAttempts); after that the client gets an error event and the run is
// charged only if the member recorded it. Members serve, journal and
// settle their own runs against the domain's lane.
//
// # Reconciliation: no lane over-served
//
// The front door is the only admitter for a domain lane: members accept a
// request against it only with the front door's signed pass
// (keepers/domainpass; members run with [domain] front_door = the front
// door's key), and answer with the run's journal number and cost
// (X-Run-Seq, X-Run-Cost; trailers on streams). The Ledger keeps, per
// escrow, in flight (the worst case of every request being served) and
// owed (the answered runs not yet seen settled), and admits when
//
//	available − owed − in flight ≥ worst case
//
// where available is what settlement may still take from the lane, read in
// one getMultipleAccounts call together with every member node's
// last_run_seq (a Snapshot: one slot). An answered run moves from in
// flight to owed at its receipt's cost (never more than its worst case)
// and leaves owed only when a snapshot shows its node's last_run_seq at or
// past its number: that same snapshot's available already has its debit.
// So at every moment each answered, unsettled run is counted once (owed or
// in flight) against an available amount that does not yet include it,
// and the members together can never be owed more than the lane holds:
// every answered run is paid. Settlement charges a batch entry at most the
// sum of its runs' quotes, so the rule errs only towards the lane.
//
// A run whose outcome the front door could not learn (the answer broke
// off, or the client left mid-stream) stays owed at its worst case; after
// UnknownHold (longer than a member may take to make a run durable) the
// member's journal high-water mark (GET /domain/high-water) stands in for
// its number — 0 frees it. A member that is down keeps such runs owed
// until it is back.
//
// The ledger lives in memory, so a front door that starts does not know
// what its members' unsettled runs owe. With LedgerConfig.StartBarrier
// (keeper run --domain turns it on) admission stays closed (503, /readyz
// not ready) until, UnknownHold after the start, every listed member's
// mark has been asked and a chain read shows each member's last_run_seq
// at its mark: everything recorded before then is settled and in the
// lane's balance. A member that cannot be asked keeps the door closed.
package frontdoor

// Package settlement is the keeper's half of inference_meter's settle
// instruction: the cost of a run exactly as the program computes it, the
// outcome of a whole batch, and the compact entry encoding with the account
// layout its indexes refer to.
//
// Cost, Split and Settle mirror programs/inference-meter/src/math.rs and
// instructions/settle.rs operation for operation (128-bit intermediates, the
// same roundings in the same order), so a keeper quotes and admits requests
// with the number settlement will charge and can predict a batch's outcome,
// shortfalls included, before sending it. program_test.go holds ShareCost,
// Distribute, SplitCharged and Pricing.At to the program's own Rust code
// (bin/rulesoracle) on thousands of random and edge inputs. Build lays a batch out (models and
// escrows deduplicated and sorted by address, entries indexing them) and
// refuses whatever the program would refuse without looking at chain state
// (weights not summing, too many models, zero runs, overflow); the
// program's named errors (clients/inference_meter) are returned, so
// errors.Is works the same on a local refusal and an on-chain one.
//
// The way back: DecodeSettle reads a settle transaction's layout,
// CheckOutcome compares a prediction with the program's BatchSettled event
// (totals, debits, credits and every shortfall), and ReadSettled and
// SettledBatches (chain.go, the only code here that talks to a chain) read
// a node's settled batches from a cluster. Everything else is given the
// models' prices and the escrows' state by its caller.
//
// A batch settles against the node's own lanes or, with Layout.Domain set,
// against the lanes of a domain the node is a member of: Instruction then
// passes the membership, the domain and the domain operator's account, and
// Settle (given State.Domain) applies the membership windows and takes the
// domain's fee out of the operator's cut (Outcome.ToDomain), as the program does.
package settlement

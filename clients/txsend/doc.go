// Package txsend builds, sends and confirms transactions for the CLI and the
// keeper.
//
// Send prepends compute-budget instructions (unit limit from a simulation
// plus a margin, unit price as configured), signs, sends with preflight, and
// waits for the chosen commitment. If the blockhash expires before the
// transaction is seen, Send checks once more that it did not land and only
// then rebuilds it with a fresh blockhash and sends again, so a transaction
// is never executed twice. Failures come back as *TxError, whose Program
// field is the named program error (errors.Is matches the values generated
// in clients/<program>).
//
// Send never retries a transaction that failed on chain: the caller decides.
package txsend

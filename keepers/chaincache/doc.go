// Package chaincache keeps the keeper's copies of the chain state it admits
// requests against: escrows (with this node's lane) and the served models'
// prices. One owner reads each account: Escrows refreshes every cached
// escrow by polling, and the settler re-reads the escrows a batch charged
// (Escrows.RefreshEscrows) before the journal marks it settled; Prices
// reads the watched models with the chain's Clock sysvar, by polling and
// on demand. The gateway only reads them (gateway.EscrowSource,
// gateway.PriceBook).
//
// A copy may be one refresh interval behind the chain; what that allows
// is bounded where the copies are used (Prices quotes a copy only for serve
// times before its read time plus the model's hold-up). Nothing is
// persisted: a restarted keeper reads everything again.
package chaincache

// Package journal is the keeper's durable record of chargeable runs: a
// bbolt file of signed receipts and the settlement batches they move
// through.
//
// # Guarantees
//
// Record returns only after the receipt is on stable storage (the bbolt
// transaction that holds it has been committed and fsynced). The gateway
// calls Record before it writes the last byte of a response, so a response
// a client received completely is never lost by a crash, SIGKILL or power
// failure. Concurrent Record calls share one transaction and one sync
// (group commit): the committer takes everything queued while the previous
// commit was syncing, so the batch size grows with load and nothing waits
// for a timer. A receipt is recorded at most once: a second Record of the
// same run id fails with ErrDuplicate.
//
// Every recorded receipt gets the node's next run number (1, 2, 3, …) in
// the transaction that records it; settle carries a batch's run range and
// the chain keeps the highest it settled, so runs — not only batches — are
// settled at most once, even from a restored copy of this file
// (HighestRunSeq, Stale, SetRunSeqFloor; the file format is version 2, and
// a version-1 file is refused).
//
// The set of unbatched receipts and the unsettled spend per escrow are
// indexes kept in memory and rebuilt from the stored receipts when the
// file is opened (one scan), so a group commit writes only the receipts
// and the per-escrow index.
//
// # States
//
// A receipt is Recorded, then Batched into a numbered settlement batch,
// then Settled (the batch's transaction landed) or, if it can never be
// settled, Failed (written off, with a reason). A batch is Assigned, then
// Sent (with the signatures of every transaction sent for it), then
// Settled or Failed. A failed batch returns its receipts to Recorded and
// its sequence number may be assigned again; a batch that is not failed is
// never renumbered or changed. Every transition is one bbolt transaction.
//
// What a settler needs: UnbatchedRuns (recorded receipts in run-number
// order) or Unbatched (grouped by escrow, model set and applied prices —
// the price epoch), AssignBatch (atomic, with
// the batch's Merkle root), MarkSent, MarkSettled, MarkFailed, Batch and
// LastBatch, and UnsettledSpend per escrow for the gateway's admission.
//
// # Retention and compaction
//
// Nothing is deleted until it is settled and its batch settled longer ago
// than Config.Retention; written-off receipts are kept. Prune deletes what
// is past retention. bbolt never shrinks its file, so Compact copies the
// live data into a new file, syncs it and atomically renames it over the
// old one (a crash leaves either the old or the new file, never a mix);
// Run does both periodically. Compaction holds every other operation,
// Record included, until the copy is done; it runs only when more than half
// of a file above Config.CompactMinBytes is free.
//
// # Damage, backups and salvage
//
// Open reads an existing file with ordinary bounds-checked reads before
// bbolt maps it: both header pages, the file's size against the pages the
// header counts, and every page of every bucket (page ids, element
// bounds, key order). A truncated or damaged file is refused with a
// *DamagedError (errors.Is ErrDamaged) that names the file, what is wrong
// and what to do, where bbolt would have died of SIGBUS on the map or
// tripped an assertion; bbolt panics and memory faults on later reads
// become the same error. A missing or 0-byte file is a new journal
// (Created), which a keeper with history must refuse. Damage inside a
// receipt's bytes is found when the receipt is read (its signature is
// checked) or by Verify, which checks every receipt, every batch and
// bbolt's own consistency. WriteBackup copies the journal as of one read
// transaction while it is in use (BackupHandler serves it; SaveBackup,
// FetchBackup and BackupFile write a verified copy and never overwrite a
// file); Salvage copies what is readable of a damaged file into a new
// journal and reports what was lost.
//
// # Not guaranteed
//
// The journal holds one process's file lock: a second process opening the
// same file fails with ErrLocked. It does not talk to the chain; whether a
// sent batch landed is the settler's question.
package journal

// Package journal is the keeper's durable record of chargeable runs: a
// bbolt file of signed receipts and the settlement batches they move
// through.
//
// # Guarantees
//
// Record returns only after the receipt is on stable storage: in a frame
// of the receipt log (<path>-log) that has been written and fdatasynced.
// The gateway calls Record before it writes the last byte of a response,
// so a response a client received completely is never lost by a crash,
// SIGKILL or power failure. Concurrent Record calls share one frame and
// one sync (group commit): the committer takes everything queued while the
// previous frame was syncing, so the batch size grows with load and
// nothing waits for a timer. A receipt is recorded at most once: a second
// Record of the same run id fails with ErrDuplicate, whether the first is
// still only in the log or already in bbolt.
//
// # The receipt log
//
// The log is preallocated (zeros written at creation, 16 MiB by default),
// so a group commit is one pwrite of one frame at its tail and one
// fdatasync that flushes data only — not the two syncs of a bbolt
// transaction. Its header carries the journal's 16-byte id (bbolt's meta
// bucket stores it) and a generation; each frame carries its length, the
// generation and a CRC-32C, and holds the records of one group commit
// exactly as the receipts bucket stores them (run number included). The
// log ends at the first frame that is not a valid frame of the current
// generation (a torn last write, zeros, or a frame left from before a
// reset); an invalid frame followed by a valid one is damage (wal.go).
//
// An applier moves logged receipts into bbolt in the background, in large
// transactions, and keeps those not yet there in memory for Get and the
// duplicate check. Whatever needs bbolt to hold every acknowledged
// receipt applies them first: UnbatchedRuns, Unbatched, AssignBatch,
// WriteOff, Receipts, Proof, Stale, backups, Compact and Close; Prune also
// empties the log first, so that a pruned receipt cannot come back. Once
// bbolt holds everything logged (its transaction committed), the log is
// reset by writing its other header slot with the next generation, which
// is synced before any new frame is written.
//
// Replay is idempotent by run id: applying a frame stores only receipts
// whose run id bbolt lacks and raises the stored run counter to the
// frame's highest. Recovery is therefore "apply every valid frame", with
// no record of what was applied, and a crash at any step loses nothing.
// Every way of reading a journal honours the log: a read-write Open
// replays it; a read-only open (keeper status and receipts on a stopped
// keeper) that finds frames first opens the journal read-write once to
// replay them, as SQLite recovers a hot journal, and fails naming the log
// if it cannot; Verify checks the log and counts receipts only in it;
// Salvage takes every valid frame; a backup is one self-contained file
// because it is written after the log is applied. A restored older copy
// of the file beside a newer log gets the logged receipts back (they were
// acknowledged); a log of another journal (its id differs) is refused and
// never applied, unless it holds no frame, and no new journal is begun
// beside a log that holds receipts.
//
// Every recorded receipt gets the node's next run number (1, 2, 3, …)
// before its frame is written, from a counter the committer alone
// advances; a number is durable exactly when its frame is. Settle carries
// a batch's run range and the chain keeps the highest it settled, so runs
// — not only batches — are settled at most once, even from a restored
// copy of this file (HighestRunSeq, Stale, SetRunSeqFloor). The file
// format is version 3 (a receipt log beside it); a read-write open
// upgrades a version-2 file, which has no log, and a keeper that reads
// only version 2 refuses a version-3 file rather than ignore its log.
//
// The set of unbatched receipts and the unsettled spend per escrow are
// indexes kept in memory and rebuilt from the stored receipts when the
// file is opened (one scan, after the log is replayed).
//
// # States
//
// A receipt is Recorded, then Batched into a numbered settlement batch,
// then Settled (the batch's transaction landed) or, if it can never be
// settled, Failed (written off, with a reason). A batch is Assigned, then
// Sent (with the signatures of every transaction sent for it), then
// Settled or Failed. A failed batch returns its receipts to Recorded and
// its sequence number may be assigned again; a batch that is not failed is
// never renumbered or changed. Every transition after Recorded is one
// bbolt transaction.
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
// journal and reports what was lost. A receipt log with a damaged frame
// followed by valid ones is refused the same way (the error names the
// log); salvage takes the log's valid frames.
//
// # Not guaranteed
//
// The journal holds one process's file lock: a second process opening the
// same file fails with ErrLocked; the log is written only by the holder of
// the journal's exclusive lock. A Record that fails because the log's
// write or sync failed may still be on disk and replayed after a restart
// (as a failed bbolt commit could be); after such a failure the journal
// acknowledges nothing more until it is reopened. It does not talk to the chain; whether a
// sent batch landed is the settler's question.
package journal

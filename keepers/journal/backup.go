package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Backups. A backup is a consistent copy of the journal as of one bbolt
// read transaction (bbolt's Tx.WriteTo): Records and settlement go on while
// it is written. A running keeper serves it on its admin listener
// (BackupHandler, GET /journal/backup); `keeper journal backup` fetches it
// (FetchBackup) or, when no keeper runs, copies the file itself
// (BackupFile). Either way the copy is written beside its destination,
// synced, checked with Verify, and only then given its name, which must
// not exist yet: a backup never replaces a file.

// BackupPath is the admin listener's path of BackupHandler.
const BackupPath = "/journal/backup"

// ErrUnreachable: FetchBackup found no keeper answering at the address.
var ErrUnreachable = errors.New("no keeper answers on the admin address")

// ErrExists: the backup's destination exists.
var ErrExists = errors.New("destination exists (a backup never overwrites a file)")

// WriteBackup writes a consistent copy of the journal to w; size, if not
// nil, is told the copy's length before the first byte is written. The
// copy holds the journal's compaction off while it is written.
func (j *Journal) WriteBackup(w io.Writer, size func(int64)) (int64, error) {
	j.backups.Add(1)
	defer j.backups.Add(-1)
	// Every receipt acknowledged so far goes into bbolt first: the copy is
	// one self-contained file.
	if err := j.flush(); err != nil {
		return 0, fmt.Errorf("journal %s: backup: %w", j.path, err)
	}
	var n int64
	err := j.view(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("journal %s: backup: %w", j.path, err)
	}
	return n, nil
}

// BackupHandler serves WriteBackup's copy (GET), with its length and the
// journal's highest run number in the headers.
func (j *Journal) BackupHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		started := false
		_, err := j.WriteBackup(w, func(n int64) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
			w.Header().Set("X-Journal-Run-Seq", strconv.FormatUint(j.HighestRunSeq(), 10))
			started = true
		})
		if err != nil {
			j.log.Error("journal backup", "err", err)
			if !started {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
			// Otherwise the copy is cut short of its Content-Length, which
			// the client sees.
		}
	})
}

// SaveBackup writes what copyTo writes into dst, which must not exist:
// into a temporary file beside it, synced, verified, then linked to its
// name (which fails if dst appeared meanwhile). It returns the copy's
// Verify report.
func SaveBackup(dst string, copyTo func(io.Writer) (int64, error)) (Report, error) {
	if _, err := os.Lstat(dst); err == nil {
		return Report{}, fmt.Errorf("backup %s: %w", dst, ErrExists)
	}
	dir := filepath.Dir(dst)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".partial-*")
	if err != nil {
		return Report{}, fmt.Errorf("backup %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := copyTo(tmp); err != nil {
		tmp.Close()
		return Report{}, fmt.Errorf("backup %s: %w", dst, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Report{}, fmt.Errorf("backup %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return Report{}, fmt.Errorf("backup %s: %w", dst, err)
	}
	rep, err := Verify(tmp.Name())
	rep.Path = dst
	if err != nil {
		return rep, fmt.Errorf("backup %s: the copy does not verify: %w", dst, err)
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		if errors.Is(err, os.ErrExist) {
			err = ErrExists
		}
		return rep, fmt.Errorf("backup %s: %w", dst, err)
	}
	if err := syncDir(dir); err != nil {
		return rep, fmt.Errorf("backup %s: %w", dst, err)
	}
	return rep, nil
}

// BackupFile copies the journal at src to dst while no keeper runs on it
// (it fails with ErrLocked if one does: fetch the backup from the keeper).
func BackupFile(src, dst string) (Report, error) {
	j, err := Open(Config{Path: src, ReadOnly: true})
	if err != nil {
		return Report{}, err
	}
	defer j.Close()
	return SaveBackup(dst, func(w io.Writer) (int64, error) { return j.WriteBackup(w, nil) })
}

// FetchBackup saves the running keeper's backup from url (its admin
// listener's BackupPath) to dst.
func FetchBackup(ctx context.Context, client *http.Client, url, dst string) (Report, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return SaveBackup(dst, func(w io.Writer) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			return 0, fmt.Errorf("%s: %s: %s", url, res.Status, msg)
		}
		n, err := io.Copy(w, res.Body)
		if err == nil && res.ContentLength >= 0 && n != res.ContentLength {
			err = fmt.Errorf("%s: copy cut short at %d of %d bytes", url, n, res.ContentLength)
		}
		return n, err
	})
}

package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"syscall"
	"time"
)

// Damage. bbolt reads its file through a memory map and trusts what it
// finds: a file truncated below the pages its header counts makes a read
// past the end of the map (SIGBUS, which kills the process), and a
// damaged page trips one of bbolt's assertions (a panic, sometimes on a
// goroutine of bbolt's own that nothing can recover). So before bbolt maps
// a file, the journal reads it with ordinary bounds-checked reads
// (checkFile): both header (meta) pages, the size against the header's
// page count, and every page of every bucket reachable from the header,
// with the key order and element bounds bbolt relies on. A file that fails
// is refused with a *DamagedError (errors.Is ErrDamaged); bbolt panics and
// memory faults that still happen on open or later reads are turned into
// the same error (guard).

// ErrDamaged: the journal file is truncated or has damaged pages.
var ErrDamaged = errors.New("journal file is damaged")

// DamagedError names the file, what is wrong and what to do.
type DamagedError struct {
	// Path is the damaged file: the journal or its receipt log.
	Path    string
	Problem string
	// Journal is the journal whose receipt log Path is ("" when Path is
	// the journal).
	Journal string
}

func (e *DamagedError) Error() string {
	j := e.Journal
	if j == "" {
		j = e.Path
	}
	return fmt.Sprintf("journal %s is damaged: %s; nothing was served or settled from it: stop the keeper, restore the latest backup "+
		"(keeper journal backup), or copy what is readable with `keeper journal salvage %s <new file>` and start on the new file", e.Path, e.Problem, j)
}

func (e *DamagedError) Unwrap() error { return ErrDamaged }

func damaged(path, format string, a ...any) error {
	return &DamagedError{Path: path, Problem: fmt.Sprintf(format, a...)}
}

// guard runs fn with memory faults turned into panics (reads of a mapped
// file past its end) and turns any panic into a *DamagedError for path.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, "reading it failed (%v)", r)
		}
	}()
	return fn()
}

// bbolt's file layout (go.etcd.io/bbolt/internal/common, format version 2,
// little-endian as written on amd64 and arm64).
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16
	elementSize      = 16 // branch and leaf page elements
	bucketHeaderSize = 16 // root page id, sequence
	metaSumLen       = 56 // the meta fields the checksum covers
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagMeta         = 0x04
	flagBucket       = 0x01 // leaf element: the value is a bucket
	noFreelist       = ^uint64(0)
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages [0, pgid) exist
	txid     uint64
}

// parseMeta reads the meta of a page image (nil if it is not a valid one).
func parseMeta(page []byte) *boltMeta {
	if len(page) < pageHeaderSize+metaSumLen+8 {
		return nil
	}
	le := binary.LittleEndian
	m := page[pageHeaderSize:]
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return nil
	}
	h := fnv.New64a()
	h.Write(m[:metaSumLen])
	if h.Sum64() != le.Uint64(m[metaSumLen:]) {
		return nil
	}
	return &boltMeta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}
}

// fileInfo is what checkFile learned of a journal file.
type fileInfo struct {
	size int64
	// meta is the header bbolt will use (the valid one with the higher
	// transaction id); torn is set when the other one is invalid.
	meta boltMeta
	torn bool
}

// readMetas finds the valid header pages of f (size bytes).
func readMetas(path string, f io.ReaderAt, size int64) (fileInfo, error) {
	fi := fileInfo{size: size}
	if size < 2*1024 {
		return fi, damaged(path, "it is %d bytes, shorter than the two header pages of a journal (truncated?)", size)
	}
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	m0 := parseMeta(buf[:n])
	var m1 *boltMeta
	if m0 != nil {
		ps := int64(m0.pageSize)
		if ps >= 1024 && ps <= size/2 {
			n, _ := f.ReadAt(buf, ps)
			m1 = parseMeta(buf[:n])
		}
	} else {
		// Page 0 is damaged: look for page 1 at each page size bbolt allows.
		for i := 0; i <= 14 && m1 == nil; i++ {
			pos := int64(1024) << i
			if pos >= size {
				break
			}
			n, _ := f.ReadAt(buf, pos)
			if m := parseMeta(buf[:n]); m != nil && int64(m.pageSize) == pos {
				m1 = m
			}
		}
	}
	switch {
	case m0 == nil && m1 == nil:
		return fi, damaged(path, "neither of its two header pages is valid (not a journal, or overwritten)")
	case m0 != nil && m1 != nil && m0.pageSize != m1.pageSize:
		return fi, damaged(path, "its two header pages disagree on the page size (%d, %d)", m0.pageSize, m1.pageSize)
	}
	for _, m := range []*boltMeta{m0, m1} {
		if m == nil {
			fi.torn = true
			continue
		}
		if m.pageSize < 1024 || m.pageSize&(m.pageSize-1) != 0 {
			return fi, damaged(path, "its header names a page size of %d bytes", m.pageSize)
		}
		if m.pgid < 2 || m.root < 2 || m.root >= m.pgid || (m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid)) {
			return fi, damaged(path, "its header points outside the file's pages (root page %d, freelist page %d, %d pages)", m.root, m.freelist, m.pgid)
		}
		if m0 == nil || m1 == nil || m.txid >= max(m0.txid, m1.txid) {
			fi.meta = *m
		}
	}
	ps := int64(fi.meta.pageSize)
	if size%ps != 0 {
		return fi, damaged(path, "it is %d bytes, not a whole number of %d-byte pages: truncated in the middle of page %d", size, ps, size/ps)
	}
	// Both headers' pages must be in the file: bbolt may fall back to the
	// older one.
	for _, m := range []*boltMeta{m0, m1} {
		if m != nil && uint64(size/ps) < m.pgid {
			return fi, damaged(path, "it is %d bytes (%d pages) but its header counts %d pages (%d bytes): truncated", size, size/ps, m.pgid, int64(m.pgid)*ps)
		}
	}
	return fi, nil
}

// lockFile takes the lock bbolt takes (shared to read, exclusive to
// write), waiting up to a second as Open does.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if time.Now().After(deadline) {
			return ErrLocked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkFile reads path without mapping it and reports whether bbolt can
// open it safely: exists false for a missing or 0-byte file (a new
// journal), a *DamagedError for a file that is truncated or has damaged
// pages.
func checkFile(path string, exclusive bool) (exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("journal %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("journal %s: %w", path, err)
	}
	if st.Size() == 0 {
		return false, nil
	}
	// Read under the lock a keeper holds while it writes, as bbolt would
	// (the lock is let go before bbolt takes its own).
	if err := lockFile(f, exclusive); err != nil {
		return true, fmt.Errorf("journal %s: %w", path, err)
	}
	if st, err = f.Stat(); err != nil {
		return true, fmt.Errorf("journal %s: %w", path, err)
	}
	fi, err := readMetas(path, f, st.Size())
	if err != nil {
		return true, err
	}
	w := &walker{path: path, f: f, fi: fi, seen: map[uint64]bool{}}
	err = guard(path, func() error { return w.bucket(nil, fi.meta.root, nil) })
	return true, err
}

// walker reads a bbolt file's bucket tree with bounds-checked reads,
// calling leaf for every key/value that is not a bucket. With salvage set
// it reports a damaged subtree to skipped and carries on; otherwise the
// first damage ends the walk.
type walker struct {
	path    string
	f       io.ReaderAt
	fi      fileInfo
	seen    map[uint64]bool
	leaf    func(bucket [][]byte, k, v []byte) error
	salvage bool
	skipped func(bucket [][]byte, problem error)
}

func (w *walker) page(id uint64) ([]byte, error) {
	ps := int64(w.fi.meta.pageSize)
	if id < 2 || id >= w.fi.meta.pgid {
		return nil, damaged(w.path, "a reference to page %d, outside the file's %d pages", id, w.fi.meta.pgid)
	}
	if w.seen[id] {
		return nil, damaged(w.path, "page %d is referenced twice", id)
	}
	head := make([]byte, pageHeaderSize)
	if _, err := w.f.ReadAt(head, int64(id)*ps); err != nil {
		return nil, damaged(w.path, "page %d cannot be read (%v)", id, err)
	}
	le := binary.LittleEndian
	if got := le.Uint64(head); got != id {
		return nil, damaged(w.path, "page %d identifies itself as page %d", id, got)
	}
	overflow := uint64(le.Uint32(head[12:]))
	if id+overflow >= w.fi.meta.pgid {
		return nil, damaged(w.path, "page %d runs past the file's %d pages", id, w.fi.meta.pgid)
	}
	for i := id; i <= id+overflow; i++ {
		w.seen[i] = true
	}
	buf := make([]byte, int64(1+overflow)*ps)
	if _, err := w.f.ReadAt(buf, int64(id)*ps); err != nil {
		return nil, damaged(w.path, "page %d cannot be read (%v)", id, err)
	}
	return buf, nil
}

// bucket walks the bucket whose root is page root, or the inline page if
// inline is not nil.
func (w *walker) bucket(name [][]byte, root uint64, inline []byte) error {
	var last []byte
	if inline != nil {
		return w.node(name, inline, "inline bucket", &last, 0)
	}
	return w.pageTree(name, root, &last, 0)
}

func (w *walker) pageTree(name [][]byte, id uint64, last *[]byte, depth int) error {
	if depth > 64 {
		return damaged(w.path, "the tree below page %d is deeper than any journal's", id)
	}
	p, err := w.page(id)
	if err != nil {
		return err
	}
	return w.node(name, p, fmt.Sprintf("page %d", id), last, depth)
}

// node reads one page image p (a mapped page or an inline bucket's page).
func (w *walker) node(name [][]byte, p []byte, where string, last *[]byte, depth int) error {
	le := binary.LittleEndian
	if len(p) < pageHeaderSize {
		return damaged(w.path, "%s is shorter than a page header", where)
	}
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		return damaged(w.path, "%s claims %d elements, more than fit in it", where, count)
	}
	elem := func(i int) []byte { return p[pageHeaderSize+i*elementSize:] }
	slice := func(i int, pos, n uint32) ([]byte, error) {
		start := uint64(pageHeaderSize+i*elementSize) + uint64(pos)
		if start+uint64(n) > uint64(len(p)) {
			return nil, damaged(w.path, "%s element %d points past the page", where, i)
		}
		return p[start : start+uint64(n)], nil
	}
	switch flags {
	case flagBranch:
		if count == 0 {
			return damaged(w.path, "%s is an empty branch", where)
		}
		var prev []byte
		for i := range count {
			e := elem(i)
			k, err := slice(i, le.Uint32(e[0:]), le.Uint32(e[4:]))
			if err != nil {
				return err
			}
			if i > 0 && bytes.Compare(k, prev) <= 0 {
				return damaged(w.path, "%s keys are out of order", where)
			}
			prev = k
			child := le.Uint64(e[8:])
			if err := w.pageTree(name, child, last, depth+1); err != nil {
				if !w.salvage {
					return err
				}
				w.skipped(name, err)
			}
		}
		return nil
	case flagLeaf:
		for i := range count {
			e := elem(i)
			ks, vs := le.Uint32(e[8:]), le.Uint32(e[12:])
			kv, err := slice(i, le.Uint32(e[4:]), ks+vs)
			if err != nil || uint64(ks)+uint64(vs) > uint64(len(p)) {
				if err == nil {
					err = damaged(w.path, "%s element %d is larger than the page", where, i)
				}
				return err
			}
			k, v := kv[:ks], kv[ks:]
			if *last != nil && bytes.Compare(k, *last) <= 0 {
				return damaged(w.path, "%s keys are out of order", where)
			}
			*last = append((*last)[:0], k...)
			if le.Uint32(e[0:])&flagBucket != 0 {
				if len(v) < bucketHeaderSize {
					return damaged(w.path, "%s holds a bucket header that is too short", where)
				}
				sub := append(append([][]byte(nil), name...), append([]byte(nil), k...))
				root := le.Uint64(v)
				var inline []byte
				if root == 0 {
					inline = v[bucketHeaderSize:]
				}
				if err := w.bucket(sub, root, inline); err != nil {
					if !w.salvage {
						return err
					}
					w.skipped(sub, err)
				}
				continue
			}
			if w.leaf != nil {
				if err := w.leaf(name, k, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return damaged(w.path, "%s is neither a branch nor a leaf (flags %#x)", where, flags)
}

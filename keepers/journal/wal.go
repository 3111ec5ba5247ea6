package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// The receipt log. A group commit is one pwrite of one frame at the log's
// tail and one fdatasync: the file is preallocated (zeros written, not a
// sparse hole), so the sync flushes data only, not the file's size or
// block map. The applier later moves logged receipts into bbolt.
//
// Layout: two 512-byte header slots at offsets 0 and 512, frames from
// offset logFramesAt, each starting on a logAlign boundary.
//
//	header: magic (8) | version (4) | generation (8) | capacity (8) |
//	        journal id (16) | CRC-32C of the preceding (4)
//	frame:  payload length (4) | generation (8) | CRC-32C of length,
//	        generation and payload (4) | payload
//	payload: count (4) | count × (run id (16) | value length (4) | value)
//
// The header with the higher generation among the valid slots is the
// current one; a reset writes the other slot with generation+1 and syncs
// it before any frame of the new generation is written, so a torn header
// write leaves the previous generation (whose frames are all in bbolt or
// still replayable). Frames of an older generation left in the file after
// a reset are not the log's: the log ends at the first frame that is not
// a valid frame of the current generation. Frames are written one at a
// time, each synced before the next, so only the last can be torn; an
// invalid frame FOLLOWED by a valid frame of the current generation is
// damage, not a torn tail.

const (
	logMagic    = "MCRLOG\r\n"
	logVersion  = 1
	logSlotLen  = 512
	logHeadLen  = 8 + 4 + 8 + 8 + 16 + 4
	logFramesAt = 4096
	logAlign    = 4096
	frameHead   = 4 + 8 + 4
	// DefaultLogBytes is the receipt log's preallocated size.
	DefaultLogBytes = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// logPath is the receipt log of the journal at path.
func logPath(path string) string { return path + "-log" }

type logHeader struct {
	gen      uint64
	capacity int64
	id       [16]byte
}

func (h logHeader) encode() []byte {
	b := make([]byte, logHeadLen)
	copy(b, logMagic)
	binary.BigEndian.PutUint32(b[8:], logVersion)
	binary.BigEndian.PutUint64(b[12:], h.gen)
	binary.BigEndian.PutUint64(b[20:], uint64(h.capacity))
	copy(b[28:44], h.id[:])
	binary.BigEndian.PutUint32(b[44:], crc32.Checksum(b[:44], crcTable))
	return b
}

// parseLogHeader returns nil for a slot that is not a valid header and an
// error for a valid header of a version this keeper does not read.
func parseLogHeader(b []byte) (*logHeader, error) {
	if len(b) < logHeadLen || string(b[:8]) != logMagic {
		return nil, nil
	}
	if crc32.Checksum(b[:44], crcTable) != binary.BigEndian.Uint32(b[44:]) {
		return nil, nil
	}
	if v := binary.BigEndian.Uint32(b[8:]); v != logVersion {
		return nil, fmt.Errorf("%w: receipt log version %d, this keeper reads version %d", ErrUnsupported, v, logVersion)
	}
	h := &logHeader{gen: binary.BigEndian.Uint64(b[12:]), capacity: int64(binary.BigEndian.Uint64(b[20:]))}
	copy(h.id[:], b[28:44])
	return h, nil
}

// logRec is one logged receipt: its run id and the record value as the
// receipts bucket stores it (state Recorded, its run number set).
type logRec struct {
	id    receipts.RunID
	value []byte
}

func (r logRec) seq() uint64 { return runSeqOf(r.value) }

// frameSize is the bytes a frame of recs takes in the file (aligned).
func frameSize(recs []logRec) int64 {
	n := int64(frameHead + 4)
	for _, r := range recs {
		n += 16 + 4 + int64(len(r.value))
	}
	return (n + logAlign - 1) / logAlign * logAlign
}

// encodeFrameInto encodes a frame of recs in buf's storage when it is
// large enough (the committer reuses one buffer: a frame is written before
// the next is encoded; a fresh one per commit was most of the journal's
// garbage).
func encodeFrameInto(buf []byte, gen uint64, recs []logRec) []byte {
	n := int(frameSize(recs))
	var b []byte
	if cap(buf) >= n {
		b = buf[:n]
		clear(b)
	} else {
		b = make([]byte, n)
	}
	p := b[frameHead:]
	binary.BigEndian.PutUint32(p, uint32(len(recs)))
	off := 4
	for _, r := range recs {
		copy(p[off:], r.id[:])
		binary.BigEndian.PutUint32(p[off+16:], uint32(len(r.value)))
		copy(p[off+20:], r.value)
		off += 20 + len(r.value)
	}
	binary.BigEndian.PutUint32(b, uint32(off))
	binary.BigEndian.PutUint64(b[4:], gen)
	c := crc32.Update(crc32.Checksum(b[:12], crcTable), crcTable, p[:off])
	binary.BigEndian.PutUint32(b[12:], c)
	return b
}

// readFrame reads the frame at off: ok false if there is no valid frame of
// generation gen there.
func readFrame(f *os.File, off, capacity int64, gen uint64) (recs []logRec, size int64, ok bool) {
	var h [frameHead]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return nil, 0, false
	}
	n := int64(binary.BigEndian.Uint32(h[:]))
	if binary.BigEndian.Uint64(h[4:]) != gen || n < 4 || off+frameHead+n > capacity {
		return nil, 0, false
	}
	p := make([]byte, n)
	if _, err := f.ReadAt(p, off+frameHead); err != nil {
		return nil, 0, false
	}
	if crc32.Update(crc32.Checksum(h[:12], crcTable), crcTable, p) != binary.BigEndian.Uint32(h[12:]) {
		return nil, 0, false
	}
	count := int(binary.BigEndian.Uint32(p))
	pos := 4
	for range count {
		if pos+20 > len(p) {
			return nil, 0, false
		}
		id := receipts.RunID(p[pos : pos+16])
		vl := int(binary.BigEndian.Uint32(p[pos+16:]))
		pos += 20
		if vl < headerLen || pos+vl > len(p) {
			return nil, 0, false
		}
		recs = append(recs, logRec{id: id, value: bytes.Clone(p[pos : pos+vl])})
		pos += vl
	}
	return recs, (frameHead + n + logAlign - 1) / logAlign * logAlign, true
}

// logContents is what readLog found: the current header, the receipts of
// every valid frame in order, and where the next frame goes.
type logContents struct {
	header logHeader
	slot   int // the slot holding the current header
	recs   []logRec
	frames int
	tail   int64
}

// readLog reads the receipt log at path (f open on it). A log whose
// headers are both invalid, that is shorter than its header says, or has
// an invalid frame followed by a valid one is a *DamagedError naming it.
func readLog(path string, f *os.File) (logContents, error) {
	var c logContents
	st, err := f.Stat()
	if err != nil {
		return c, fmt.Errorf("receipt log %s: %w", path, err)
	}
	slots := make([]byte, 2*logSlotLen)
	n, _ := f.ReadAt(slots, 0)
	var best *logHeader
	for i := range 2 {
		end := min(n, (i+1)*logSlotLen)
		if end <= i*logSlotLen {
			continue
		}
		h, err := parseLogHeader(slots[i*logSlotLen : end])
		if err != nil {
			return c, fmt.Errorf("receipt log %s: %w", path, err)
		}
		if h != nil && (best == nil || h.gen > best.gen) {
			best, c.slot = h, i
		}
	}
	if best == nil {
		return c, logDamaged(path, "neither of the receipt log's two headers is valid")
	}
	c.header = *best
	if best.capacity < logFramesAt+logAlign || st.Size() < best.capacity {
		return c, logDamaged(path, "the receipt log is %d bytes but its header says %d: truncated", st.Size(), best.capacity)
	}
	off := int64(logFramesAt)
	for off < best.capacity {
		recs, size, ok := readFrame(f, off, best.capacity, best.gen)
		if !ok {
			break
		}
		c.recs = append(c.recs, recs...)
		c.frames++
		off += size
	}
	c.tail = off
	// The first invalid frame ends the log only if nothing valid follows.
	for at := off + logAlign; at < best.capacity; at += logAlign {
		if _, _, ok := readFrame(f, at, best.capacity, best.gen); ok {
			return c, logDamaged(path, "the receipt log has a damaged frame at byte %d followed by valid frames", off)
		}
	}
	return c, nil
}

// readLogFile reads the receipt log beside the journal at path; found is
// false when there is none.
func readLogFile(path string) (c logContents, found bool, err error) {
	lp := logPath(path)
	f, err := os.Open(lp)
	if errors.Is(err, os.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("receipt log %s: %w", lp, err)
	}
	defer f.Close()
	c, err = readLog(lp, f)
	return c, true, err
}

// receiptLog is the open receipt log the committer appends to.
type receiptLog struct {
	path   string
	f      *os.File
	header logHeader
	slot   int
	tail   int64
	buf    []byte // the last frame written, reused for the next
}

// createLog writes a new empty log for journal id at path: beside it,
// preallocated and synced, then renamed into place.
func createLog(path string, id [16]byte, capacity int64) error {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("receipt log %s: %w", path, err)
	}
	defer os.Remove(tmp)
	h := logHeader{gen: 1, capacity: capacity, id: id}
	zeros := make([]byte, 1<<20)
	var werr error
	for off := int64(0); off < capacity && werr == nil; off += int64(len(zeros)) {
		_, werr = f.WriteAt(zeros[:min(int64(len(zeros)), capacity-off)], off)
	}
	if werr == nil {
		_, werr = f.WriteAt(h.encode(), 0)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr == nil {
		werr = syncDir(filepath.Dir(path))
	}
	if werr != nil {
		return fmt.Errorf("receipt log %s: create: %w", path, werr)
	}
	return nil
}

// append writes one frame at the tail and syncs it.
func (l *receiptLog) append(recs []logRec) error {
	l.buf = encodeFrameInto(l.buf, l.header.gen, recs)
	b := l.buf
	if _, err := l.f.WriteAt(b, l.tail); err != nil {
		return fmt.Errorf("receipt log %s: write: %w", l.path, err)
	}
	if err := fdatasync(l.f); err != nil {
		return fmt.Errorf("receipt log %s: sync: %w", l.path, err)
	}
	l.tail += int64(len(b))
	return nil
}

// fits reports whether a frame of size bytes fits after the tail.
func (l *receiptLog) fits(size int64) bool { return l.tail+size <= l.header.capacity }

// empty reports whether the log holds no frame.
func (l *receiptLog) empty() bool { return l.tail == logFramesAt }

// reset empties the log: the other header slot gets the next generation
// and is synced. Call it only when bbolt holds every logged receipt.
func (l *receiptLog) reset() error {
	h := l.header
	h.gen++
	slot := 1 - l.slot
	if _, err := l.f.WriteAt(h.encode(), int64(slot*logSlotLen)); err != nil {
		return fmt.Errorf("receipt log %s: reset: %w", l.path, err)
	}
	if err := fdatasync(l.f); err != nil {
		return fmt.Errorf("receipt log %s: reset: %w", l.path, err)
	}
	l.header, l.slot, l.tail = h, slot, logFramesAt
	return nil
}

var (
	// errForeignLog: the receipt log beside a journal belongs to another one.
	errForeignLog = errors.New("receipt log belongs to another journal")
	// errOrphanLog: a receipt log holding receipts beside no journal.
	errOrphanLog = errors.New("receipt log without its journal")
)

// logDamaged is a *DamagedError for the receipt log at path.
func logDamaged(path, format string, a ...any) error {
	return &DamagedError{Path: path, Problem: fmt.Sprintf(format, a...), Journal: strings.TrimSuffix(path, "-log")}
}

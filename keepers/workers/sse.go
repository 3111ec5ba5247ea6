package workers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Sentinel errors of the stream reader.
var (
	// ErrTruncated: the stream ended inside an event or before it was
	// complete (no [DONE] and no finish_reason for every choice).
	ErrTruncated = errors.New("worker stream truncated")
	// ErrEventTooLarge: one SSE event exceeded the configured bound.
	ErrEventTooLarge = errors.New("worker stream event too large")
)

// DefaultMaxEvent bounds one SSE event (all its lines).
const DefaultMaxEvent = 1 << 20

// Event is one server-sent event.
type Event struct {
	// Raw is the event exactly as received, including its terminating
	// blank line; forwarding Raw reproduces the worker's stream.
	Raw []byte
	// Data is the event's data lines joined with "\n" ("data:" and one
	// optional space removed).
	Data []byte
	// Done is set for the OpenAI end-of-stream sentinel "data: [DONE]".
	Done bool
}

// SSEReader splits a text/event-stream body into events with bounded memory.
type SSEReader struct {
	r   *bufio.Reader
	max int
	raw []byte
	dat []byte
}

// NewSSEReader reads events from r; maxEvent <= 0 means DefaultMaxEvent.
func NewSSEReader(r io.Reader, maxEvent int) *SSEReader {
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEvent
	}
	return &SSEReader{r: bufio.NewReaderSize(r, 16<<10), max: maxEvent}
}

var doneMarker = []byte("[DONE]")

// Buffered is how many bytes are read from the body but not yet returned:
// a relay flushes its client only when this is zero.
func (s *SSEReader) Buffered() int { return s.r.Buffered() }

// Next returns the next event. The returned slices are valid until the next
// call. At a clean end of stream (between events) it returns io.EOF; if the
// body ends inside an event it returns ErrTruncated.
func (s *SSEReader) Next() (Event, error) {
	s.raw = s.raw[:0]
	s.dat = s.dat[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(s.raw) == 0 {
					return Event{}, io.EOF
				}
				return Event{}, ErrTruncated
			}
			return Event{}, err
		}
		s.raw = append(s.raw, line...)
		content := bytes.TrimRight(line, "\r\n")
		if len(content) == 0 {
			if len(s.raw) == len(line) {
				// Blank line with no event before it: skip.
				s.raw = s.raw[:0]
				continue
			}
			ev := Event{Raw: s.raw, Data: s.dat}
			ev.Done = hasData && bytes.Equal(bytes.TrimSpace(s.dat), doneMarker)
			return ev, nil
		}
		if field, ok := bytes.CutPrefix(content, []byte("data:")); ok {
			field = bytes.TrimPrefix(field, []byte(" "))
			if hasData {
				s.dat = append(s.dat, '\n')
			}
			s.dat = append(s.dat, field...)
			hasData = true
		}
		// Comments (":") and other fields (event:, id:, retry:) are kept in
		// Raw and otherwise ignored.
	}
}

// readLine returns one line including its "\n", within the event bound.
func (s *SSEReader) readLine() ([]byte, error) {
	var long []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		if len(s.raw)+len(long)+len(frag) > s.max {
			return nil, fmt.Errorf("%w (over %d bytes)", ErrEventTooLarge, s.max)
		}
		switch {
		case err == nil:
			if long != nil {
				return append(long, frag...), nil
			}
			return frag, nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, frag...)
		case errors.Is(err, io.EOF):
			if len(frag) > 0 || long != nil {
				// A final line without "\n": the stream was cut.
				return nil, ErrTruncated
			}
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}

package gateway

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

// A client that stops reading a long stream is cut off after the write
// timeout: the run ends, the worker is released, the client is charged
// only for the events written to its connection (a partial receipt), and
// the gateway holds one event at a time, not the stream.
func TestSlowClientIsCutOff(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}, MaxModelLen: 200_000}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
		mutate: func(c *Config) {
			c.WriteTimeout = 300 * time.Millisecond
			c.MaxTokensLimit = 100_000
		},
	})
	// A tiny receive buffer on the client so the stream (~10 MB) cannot
	// sit in kernel buffers.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := dialer.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"model":"model-a","messages":[{"role":"user","content":"go on forever"}],"max_tokens":60000,"ignore_eos":true,"stream":true}`
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+keyRich)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 512), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	// Read nothing more. The gateway must give up on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for h.pool.Snapshot()[0].Outstanding != 0 {
		if ctx.Err() != nil {
			t.Fatal("the gateway is still blocked on a client that stopped reading")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Charged for what was written to its connection (the socket buffers
	// take a few thousand tokens), never more than the worker generated
	// before it was stopped, well short of the 60 000 asked for.
	st := h.sims["gpu-a"].Stats()
	if st.Aborted != 1 || st.StreamedTokens >= 60_000 {
		t.Fatalf("the worker was not stopped: %+v", st)
	}
	if es := h.receiptsOf(keyRich); len(es) > 1 || len(es) == 1 && (!es[0].Signed.Receipt.Partial || es[0].Signed.Receipt.OutputTokens > st.StreamedTokens) {
		t.Fatalf("receipts for a stream the client stopped reading (worker streamed %d tokens): %+v", st.StreamedTokens, es)
	}
	if held := h.heldReservations(); held != 0 {
		t.Fatalf("%d reservations held", held)
	}
}

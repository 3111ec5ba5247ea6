package localnet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/argv"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// fakeChain answers the clock sysvar and, if local, surfnet_timeTravel.
type fakeChain struct {
	local   bool
	mu      sync.Mutex
	clock   int64
	methods []string
}

func (f *fakeChain) called() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.methods, " ")
}

func (f *fakeChain) serve(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     any               `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.methods = append(f.methods, req.Method)
		resp := map[string]any{"jsonrpc": "2.0", "id": req.ID}
		switch {
		case req.Method == "getAccountInfo":
			data := make([]byte, 40)
			binary.LittleEndian.PutUint64(data[32:], uint64(f.clock))
			resp["result"] = map[string]any{"context": map[string]any{"slot": 1}, "value": map[string]any{
				"data": []string{base64.StdEncoding.EncodeToString(data), "base64"}, "executable": false,
				"lamports": 1, "owner": "Sysvar1111111111111111111111111111111111111", "rentEpoch": 0}}
		case req.Method == "surfnet_timeTravel" && f.local:
			var cfg struct {
				AbsoluteTimestamp int64 `json:"absoluteTimestamp"`
			}
			json.Unmarshal(req.Params[0], &cfg)
			f.clock = cfg.AbsoluteTimestamp / 1000
			resp["result"] = map[string]any{"absoluteSlot": 42, "unixTimestamp": f.clock}
		default:
			resp["error"] = map[string]any{"code": -32601, "message": "Method not found"}
		}
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func run(t *testing.T, args ...string) (string, *explain.Explanation) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	app := &cli.App{Name: "mt", Flags: session.CommonFlags(), Commands: []*cli.Command{Command()},
		Writer: &stdout, ErrWriter: &stderr, ExitErrHandler: func(*cli.Context, error) {}}
	err := app.RunContext(context.Background(), argv.Reorder(app, append([]string{"mt", "localnet", "warp"}, args...)))
	if err != nil {
		if stdout.Len() != 0 {
			t.Errorf("warp %s failed but printed %q", strings.Join(args, " "), stdout.String())
		}
		e := explain.Explain(err, explain.Context{})
		return "", &e
	}
	return stdout.String(), nil
}

const start = 1_800_000_000

func TestWarpMovesTheClockForward(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"--by", "3d"}, start + 3*86400},
		{[]string{"--to", "1800000600"}, start + 600},
		{[]string{"--to", time.Unix(start+3600, 0).UTC().Format(time.RFC3339)}, start + 3600},
	} {
		f := &fakeChain{local: true, clock: start}
		out, e := run(t, append(tc.args, "--url", f.serve(t), "--output", "json")...)
		if e != nil {
			t.Fatalf("warp %v: %s", tc.args, e.What)
		}
		var w Warp
		if err := json.Unmarshal([]byte(out), &w); err != nil {
			t.Fatal(err)
		}
		if w.Now.Unix() != tc.want || w.From.Unix() != start || w.Slot != 42 {
			t.Errorf("warp %v: %+v, want now %d", tc.args, w, tc.want)
		}
	}
}

func TestWarpRefusesBadInputAndOtherClustersSendingNothing(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		local bool
		want  string
		calls string
	}{
		{nil, true, "exactly one of --to and --by", ""},
		{[]string{"--to", "1800000600", "--by", "1d"}, true, "exactly one of --to and --by", ""},
		{[]string{"--to", "tomorrow"}, true, "is not a time", ""},
		{[]string{"--by", "3 days"}, true, "is not a duration", ""},
		{[]string{"--by", "-1d"}, true, "is not a duration", ""},
		{[]string{"--by", "0s"}, true, "does not move the clock", ""},
		{[]string{"--to", "1700000000"}, true, "is not after the chain's clock", "getAccountInfo"},
		{[]string{"--by", "1d"}, false, "does not answer surfnet_timeTravel", "getAccountInfo surfnet_timeTravel"},
	} {
		f := &fakeChain{local: tc.local, clock: start}
		_, e := run(t, append(tc.args, "--url", f.serve(t))...)
		if e == nil || !strings.Contains(e.What, tc.want) || e.Fix == "" {
			t.Errorf("warp %v: %+v, want an error with %q and a fix", tc.args, e, tc.want)
		}
		if got := f.called(); got != tc.calls {
			t.Errorf("warp %v asked the chain %q, want %q", tc.args, got, tc.calls)
		}
		if f.clock != start {
			t.Errorf("warp %v moved the clock", tc.args)
		}
	}
	for _, url := range []string{"mainnet-beta", "devnet", "t", "https://mainnet.helius-rpc.com"} {
		_, e := run(t, "--by", "1d", "--url", url)
		if e == nil || !strings.Contains(e.What, "only the local chain's clock can be moved") {
			t.Errorf("warp --url %s: %+v", url, e)
		}
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
)

// The gateway benchmark measures a keeper in its own process by default,
// as it runs in production: its garbage collector and its stalls are then
// its own, and neither slows nor speeds the load generator and the worker
// that the baseline (the worker alone) also goes through. --keeper
// in-process keeps the older shape, everything in one process, for
// profiling all of it at once.

// keeperCounters are a keeper's journal counters since it opened, and the
// journal waits (each Record's wait for its group commit) since the last
// reading.
type keeperCounters struct {
	Records      uint64  `json:"records"`
	Commits      uint64  `json:"commits"`
	CommitTimeNs int64   `json:"commit_time_ns"`
	WaitsNs      []int64 `json:"waits_ns"`
}

func (c keeperCounters) waits() []time.Duration {
	w := make([]time.Duration, len(c.WaitsNs))
	for i, n := range c.WaitsNs {
		w[i] = time.Duration(n)
	}
	return w
}

// benchKeeper is the keeper a gateway benchmark sends its requests to.
type benchKeeper interface {
	URL() string
	// Counters reads the journal's counters and takes its waits.
	Counters() (keeperCounters, error)
	Stop() error
}

// readCounters reads j's counters and takes timed's waits.
func readCounters(j *journal.Journal, timed *timedJournal) keeperCounters {
	st := j.Stats()
	c := keeperCounters{Records: st.Records, Commits: st.Commits, CommitTimeNs: int64(st.CommitTime)}
	for _, w := range timed.take() {
		c.WaitsNs = append(c.WaitsNs, int64(w))
	}
	return c
}

// inProcessKeeper serves the gateway from the benchmark's own process.
type inProcessKeeper struct {
	url   string
	j     *journal.Journal
	timed *timedJournal
	stop  func()
}

func (k *inProcessKeeper) URL() string                       { return k.url }
func (k *inProcessKeeper) Counters() (keeperCounters, error) { return readCounters(k.j, k.timed), nil }
func (k *inProcessKeeper) Stop() error                       { k.stop(); return k.j.Close() }

// keeperSetup is what a benchmark keeper is started with, in this process
// or in a child.
type keeperSetup struct {
	worker, journal string
	memJournal      bool
	gc              string
	profiles        profileFlags
}

func startInProcessKeeper(s keeperSetup) (*inProcessKeeper, error) {
	pool, j, err := keeperBackend(s.worker, s.journal)
	if err != nil {
		return nil, err
	}
	var jn gateway.Journal = j
	if s.memJournal {
		jn = &memoryJournal{}
	}
	timed := &timedJournal{Journal: jn}
	url, stop, err := serveBenchGateway(pool, timed)
	if err != nil {
		j.Close()
		return nil, err
	}
	return &inProcessKeeper{url: url, j: j, timed: timed, stop: stop}, nil
}

// childKeeper is a keeperbench serve-gateway process.
type childKeeper struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	url     string
	control string
	client  *http.Client
}

// startChildKeeper starts this binary's serve-gateway in a child process
// and waits for it to say where it listens.
func startChildKeeper(s keeperSetup) (*childKeeper, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("keeper process: %w", err)
	}
	args := []string{"serve-gateway", "-worker", s.worker, "-journal", s.journal, "-gc", s.gc}
	if s.memJournal {
		args = append(args, "-memory-journal")
	}
	args = append(args, s.profiles.args()...)
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("keeper process: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("keeper process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("keeper process: %w", err)
	}
	var ready struct{ Gateway, Control string }
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &ready)
	}
	if err != nil || ready.Gateway == "" {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("keeper process did not start (its own error is above): %v", err)
	}
	return &childKeeper{cmd: cmd, stdin: stdin, url: ready.Gateway, control: ready.Control, client: &http.Client{Timeout: 10 * time.Second}}, nil
}

func (k *childKeeper) URL() string { return k.url }

func (k *childKeeper) Counters() (keeperCounters, error) {
	var c keeperCounters
	resp, err := k.client.Get(k.control + "/counters")
	if err != nil {
		return c, fmt.Errorf("keeper process counters: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return c, fmt.Errorf("keeper process counters: %w", err)
	}
	return c, nil
}

// Stop closes the child's stdin, which is its signal to write its
// profiles, close its journal and exit.
func (k *childKeeper) Stop() error {
	k.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- k.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("keeper process: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		k.cmd.Process.Kill()
		<-done
		return errors.New("keeper process did not exit within 30 s of its stdin closing; killed")
	}
}

// serveGateway is the child's side: a keeper in front of --worker, with
// its journal at --journal, until its stdin closes.
func serveGateway(args []string) error {
	fs := flag.NewFlagSet("serve-gateway", flag.ExitOnError)
	var s keeperSetup
	fs.StringVar(&s.worker, "worker", "", "the worker's base URL")
	fs.StringVar(&s.journal, "journal", "", "the journal file")
	fs.BoolVar(&s.memJournal, "memory-journal", false, "an in-memory journal (diagnostic)")
	fs.StringVar(&s.gc, "gc", "keeper", "garbage collector: keeper or go")
	s.profiles.register(fs)
	_ = fs.Parse(args)
	if s.worker == "" || s.journal == "" {
		return errors.New("serve-gateway needs --worker and --journal")
	}
	if _, err := applyGC(s.gc); err != nil {
		return err
	}
	k, err := startInProcessKeeper(s)
	if err != nil {
		return err
	}
	stopProfiles, err := s.profiles.start()
	if err != nil {
		k.Stop()
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopProfiles()
		k.Stop()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /counters", func(w http.ResponseWriter, r *http.Request) {
		c, _ := k.Counters()
		json.NewEncoder(w).Encode(c)
	})
	control := &http.Server{Handler: mux}
	go control.Serve(ln)
	ready, _ := json.Marshal(map[string]string{"gateway": k.URL(), "control": "http://" + ln.Addr().String()})
	fmt.Printf("%s\n", ready)
	// The parent closes stdin to stop this process, and so does its death.
	io.Copy(io.Discard, os.Stdin)
	control.Shutdown(context.Background())
	stopProfiles()
	return k.Stop()
}

package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeeperModel maps a public model name to its mt_treasury id.
type KeeperModel struct {
	Name string
	ID   uint64
}

// KeeperWorker is one GPU worker the keeper routes to.
type KeeperWorker struct {
	Name string
	URL  string
	// Kind is the worker's server software (keeper's [[worker]] kind;
	// default "vllm", which workersim speaks).
	Kind   string
	Models []string
}

// KeeperConfig is what the driver writes into keeper.toml.
type KeeperConfig struct {
	// Dir holds keeper.toml, the journal and the settler's state.
	Dir     string
	RPCURL  string
	Keypair string // the keeper hot key file (0600)
	Models  []KeeperModel
	Workers []KeeperWorker
	// Listen is the API address (default: a free loopback port).
	Listen string
	// Extra is appended to the file verbatim (sections of parts this
	// driver does not know field by field, e.g. settlement and cranks).
	Extra string
	// Name names the process and its log (default "keeper").
	Name string
}

// Keeper is a running `keeper run`.
type Keeper struct {
	bins  Bins
	procs *Procs
	cfg   KeeperConfig
	proc  *Proc
	// API is the OpenAI-compatible base URL (without /v1); Admin the
	// operator listener (host:port).
	API, Admin string
	ConfigPath string
	starts     int
}

// ConfigTOML renders the configuration file, listening on listen and admin.
func (c KeeperConfig) ConfigTOML(listen, admin string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "listen = %q\nadmin_listen = %q\nkeypair = %q\nrpc_url = %q\ncommitment = \"confirmed\"\nlog_level = \"info\"\nlog_format = \"json\"\n\n",
		listen, admin, c.Keypair, c.RPCURL)
	fmt.Fprintf(&sb, "[journal]\npath = %q\n\n", filepath.Join(c.Dir, "journal.db"))
	sb.WriteString("[gateway]\nshutdown_grace = \"2s\"\nupstream_idle_timeout = \"5s\"\n\n")
	sb.WriteString("[pool]\nhealth_interval = \"500ms\"\nhealth_timeout = \"1s\"\nunhealthy_after = 1\nbreaker_cooldown = \"1s\"\n\n")
	for _, m := range c.Models {
		fmt.Fprintf(&sb, "[[model]]\nname = %q\nid = %d\n\n", m.Name, m.ID)
	}
	for _, w := range c.Workers {
		q := make([]string, len(w.Models))
		for i, m := range w.Models {
			q[i] = fmt.Sprintf("%q", m)
		}
		kind := w.Kind
		if kind == "" {
			kind = "vllm"
		}
		fmt.Fprintf(&sb, "[[worker]]\nname = %q\nurl = %q\nkind = %q\nmodels = [%s]\n\n", w.Name, w.URL, kind, strings.Join(q, ", "))
	}
	sb.WriteString(c.Extra)
	return sb.String()
}

// StartKeeper writes the configuration and runs `keeper run --config …`
// on free loopback ports, waiting until it is ready.
func StartKeeper(ctx context.Context, bins Bins, procs *Procs, cfg KeeperConfig) (*Keeper, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	k := &Keeper{bins: bins, procs: procs, cfg: cfg, ConfigPath: filepath.Join(cfg.Dir, "keeper.toml")}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	return k, k.start(ctx, listen, "127.0.0.1:0")
}

func (k *Keeper) start(ctx context.Context, listen, admin string) error {
	if err := os.WriteFile(k.ConfigPath, []byte(k.cfg.ConfigTOML(listen, admin)), 0o600); err != nil {
		return err
	}
	k.starts++
	name := k.cfg.Name
	if name == "" {
		name = "keeper"
	}
	if k.starts > 1 {
		name = fmt.Sprintf("%s-%d", name, k.starts)
	}
	ready := func(line string) (string, bool) {
		var l struct {
			Msg   string `json:"msg"`
			API   string `json:"api"`
			Admin string `json:"admin"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "keeper serving" {
			return "", false
		}
		return l.API + " " + l.Admin, true
	}
	p, addrs, err := k.procs.Start(ctx, name, os.Environ(), ready, 60*time.Second, k.bins.Keeper, "run", "--config", k.ConfigPath)
	if err != nil {
		return err
	}
	k.proc = p
	api, adm, _ := strings.Cut(addrs, " ")
	k.API, k.Admin = "http://"+api, adm
	return k.waitReady(ctx, 30*time.Second)
}

func (k *Keeper) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if k.proc.Exited() {
			return fmt.Errorf("keeper exited: %v\n%s", k.proc.Wait(), Tail(k.proc.LogPath, 30))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.API+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("keeper not ready within %s\n%s", timeout, Tail(k.proc.LogPath, 30))
}

// Proc is the running process.
func (k *Keeper) Proc() *Proc { return k.proc }

// Kill sends SIGKILL, as a crash would.
func (k *Keeper) Kill() { k.proc.Kill() }

// Stop ends the keeper gracefully.
func (k *Keeper) Stop() { k.proc.Stop(10 * time.Second) }

// Restart starts the keeper again on the same addresses, with the same
// journal and state.
func (k *Keeper) Restart(ctx context.Context) error {
	if !k.proc.Exited() {
		k.Stop()
	}
	return k.start(ctx, strings.TrimPrefix(k.API, "http://"), k.Admin)
}

// Status is GET /status on the admin listener, decoded into out.
func (k *Keeper) Status(ctx context.Context, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+k.Admin+"/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("keeper status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("keeper status: HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// LogPath is the current run's log.
func (k *Keeper) LogPath() string { return k.proc.LogPath }

// Workersim is a running simulated GPU worker.
type Workersim struct {
	Proc *Proc
	URL  string
}

// StartWorkersim runs workersim serving models on a free loopback port
// (extra flags such as --per-token 5ms are passed through).
func StartWorkersim(ctx context.Context, bins Bins, procs *Procs, name string, models []string, extra ...string) (*Workersim, error) {
	args := []string{"--listen", "127.0.0.1:0", "--model", strings.Join(models, ",")}
	args = append(args, extra...)
	ready := func(line string) (string, bool) {
		rest, ok := strings.CutPrefix(line, "workersim ready url=")
		if !ok {
			return "", false
		}
		url, _, _ := strings.Cut(rest, " ")
		return url, true
	}
	p, url, err := procs.Start(ctx, name, os.Environ(), ready, 20*time.Second, bins.Workersim, args...)
	if err != nil {
		return nil, err
	}
	return &Workersim{Proc: p, URL: url}, nil
}

package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FrontDoorConfig is what the driver writes into a front door's
// frontdoor.toml (`keeper run --config … --domain …`).
type FrontDoorConfig struct {
	// Dir holds frontdoor.toml.
	Dir     string
	RPCURL  string
	Keypair string // the front door's key file: it signs the passes members check
	Models  []KeeperModel
	Domain  string
}

// FrontDoor is a running domain front door.
type FrontDoor struct {
	proc *Proc
	// API is the OpenAI-compatible base URL (without /v1).
	API        string
	ConfigPath string
}

// ConfigTOML renders the configuration file. The domain is new (no member
// has served anything before), so the front door need not wait at start
// for members to settle earlier runs (start_barrier).
func (c FrontDoorConfig) ConfigTOML() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "listen = \"127.0.0.1:0\"\nkeypair = %q\nrpc_url = %q\ncommitment = \"confirmed\"\nlog_level = \"info\"\nlog_format = \"json\"\n\n", c.Keypair, c.RPCURL)
	sb.WriteString("[gateway]\nshutdown_grace = \"2s\"\n\n")
	for _, m := range c.Models {
		fmt.Fprintf(&sb, "[[model]]\nname = %q\nid = %d\n\n", m.Name, m.ID)
	}
	sb.WriteString("[domain]\nmember_refresh = \"500ms\"\nlane_refresh = \"500ms\"\nstart_barrier = false\n")
	return sb.String()
}

// StartFrontDoor writes the configuration and runs `keeper run --config …
// --domain …`, waiting until it serves.
func StartFrontDoor(ctx context.Context, bins Bins, procs *Procs, cfg FrontDoorConfig) (*FrontDoor, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	f := &FrontDoor{ConfigPath: filepath.Join(cfg.Dir, "frontdoor.toml")}
	if err := os.WriteFile(f.ConfigPath, []byte(cfg.ConfigTOML()), 0o600); err != nil {
		return nil, err
	}
	ready := func(line string) (string, bool) {
		var l struct {
			Msg string `json:"msg"`
			API string `json:"api"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "front door serving" {
			return "", false
		}
		return l.API, true
	}
	p, api, err := procs.Start(ctx, "frontdoor", os.Environ(), ready, 60*time.Second, bins.Keeper, "run", "--config", f.ConfigPath, "--domain", cfg.Domain)
	if err != nil {
		return nil, err
	}
	f.proc, f.API = p, "http://"+api
	return f, nil
}

// LogPath is the front door's log.
func (f *FrontDoor) LogPath() string { return f.proc.LogPath }

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func runInit(args ...string) (string, error) {
	var out bytes.Buffer
	app := &cli.App{Name: "keeper", Commands: []*cli.Command{initCommand()}, Writer: &out, ErrWriter: &out}
	err := app.RunContext(context.Background(), append([]string{"keeper", "init-config"}, args...))
	return out.String(), err
}

func TestInitConfig(t *testing.T) {
	out, err := runInit("--out", "-")
	if err != nil || !strings.Contains(out, "\nlisten = \"127.0.0.1:8080\"\n") || !strings.Contains(out, "\nid = 0 ") || !strings.Contains(out, "\n# node = \"...\"\n") {
		t.Errorf("default config: %v\n%s", err, out)
	}
	node := "9RJGPnHS5kSKyzhXheAYQjspDdqH3BwSj1qxW4AnEirU"
	out, err = runInit("--out", "-", "--listen", "0.0.0.0:8080", "--node", node)
	if err != nil || !strings.Contains(out, "\nlisten = \"0.0.0.0:8080\"\n") || !strings.Contains(out, "\nnode = \""+node+"\"\n") {
		t.Errorf("with --listen and --node: %v\n%s", err, out)
	}

	path := filepath.Join(t.TempDir(), "keeper.toml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "8080"}, "is not host:port"},
		{[]string{"--node", "my-node"}, "is not an address"},
	} {
		_, err := runInit(append(tc.args, "--out", path)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("init-config %v: %v, want one line with %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("init-config %v wrote a file", tc.args)
		}
	}
}

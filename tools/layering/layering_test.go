package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// moduleGraph lists the module's packages with `go list -json ./...` (run
// at the module root) and keeps the imports inside the module.
func moduleGraph(t *testing.T) Graph {
	t.Helper()
	mod, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	modPath, root, _ := strings.Cut(strings.TrimSpace(string(mod)), " ")
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, stderr.String())
	}
	g := Graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		rel, ok := strings.CutPrefix(p.ImportPath, modPath+"/")
		if !ok {
			continue
		}
		g[rel] = nil
		for _, imp := range p.Imports {
			if r, ok := strings.CutPrefix(imp, modPath+"/"); ok {
				g[rel] = append(g[rel], r)
			}
		}
	}
	if len(g) < 10 {
		t.Fatalf("go list found only %d packages in %s: is this the module root?", len(g), root)
	}
	return g
}

// The repository obeys its import rules.
func TestRepositoryFollowsTheImportRules(t *testing.T) {
	for _, v := range Check(moduleGraph(t), Rules) {
		t.Error(v)
	}
}

// Each kind of violation is found, directly or through another package,
// and the allowed imports are not reported.
func TestCheckFindsForbiddenImports(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    Graph
		want []string // chains, joined by " → "
	}{
		{"product imports a test package", Graph{"demo/story": {"tests/localnet"}, "tests/localnet": nil},
			[]string{"demo/story → tests/localnet"}},
		{"keeper imports the CLI", Graph{"keepers/keeperd": {"cli/config"}, "cli/config": nil},
			[]string{"keepers/keeperd → cli/config"}},
		{"through another package", Graph{"actions": {"clients/x"}, "clients/x": {"cli/dao"}, "cli/dao": nil},
			[]string{"actions → clients/x → cli/dao", "clients/x → cli/dao"}},
		{"clients import a layer above", Graph{"clients/rules": {"keepers/cranks"}, "keepers/cranks": nil},
			[]string{"clients/rules → keepers/cranks"}},
		{"the CLI may import cli/", Graph{"cmd/mt": {"cli/dao"}, "cli/dao": {"clients/rules"}, "clients/rules": nil}, nil},
		{"only cmd/keeper imports the daemon's wiring", Graph{"cmd/keeper": {"keepers/keeperd"}, "tools/keeperbench": {"keepers/keeperd"}, "keepers/keeperd": nil},
			[]string{"tools/keeperbench → keepers/keeperd"}},
		{"the chain caches import none of their readers", Graph{"keepers/chaincache": {"keepers/gateway"}, "keepers/gateway": nil},
			[]string{"keepers/chaincache → keepers/gateway"}},
		{"tests may import anything", Graph{"tests/keeper": {"cli/dao", "keepers/keeperd"}, "cli/dao": nil, "keepers/keeperd": nil}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range Check(tc.g, Rules) {
				got = append(got, strings.Join(v.Chain, " → "))
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("violations %q, want %q", got, tc.want)
			}
		})
	}
}

// Package layering states the repository's import rules (DESIGN.md §8) and
// checks a package graph against them. Product code (cmd/, keepers/,
// actions/, clients/, demo/, localnet/) never imports tests/ or tools/, nor
// the CLI's internals (cli/) unless it is the CLI (cmd/mt); clients/ is the
// bottom layer and imports none of the layers above it; the keeper daemon's
// wiring (keepers/keeperd) is imported only by cmd/keeper (and tests); the
// chain caches (keepers/chaincache) import none of their readers.
//
// Check reports every violation, direct or through other packages of the
// module, with the chain of imports that leads to it. The test in this
// package runs it on `go list -json ./...` of the repository.
package layering

import (
	"fmt"
	"sort"
	"strings"
)

// Rule forbids packages under From (a path prefix inside the module, e.g.
// "keepers/") to import, directly or not, any package under one of Forbid,
// except the packages listed in Except (exact paths, e.g. "cmd/mt").
type Rule struct {
	From   string
	Forbid []string
	Except []string
	Why    string
}

// Rules are the repository's import rules.
var Rules = func() []Rule {
	product := []string{"cmd/", "keepers/", "actions/", "clients/", "demo/", "localnet/"}
	var rs []Rule
	for _, p := range product {
		rs = append(rs,
			Rule{From: p, Forbid: []string{"tests/", "tools/"},
				Why: "product code never depends on test harnesses or tools; shared harnesses live in localnet/golocal"},
			Rule{From: p, Forbid: []string{"cli/"}, Except: []string{"cmd/mt"},
				Why: "only the mt CLI (cmd/mt) imports cli/; rules, builders and cluster resolution shared with it live in clients/"})
	}
	rs = append(rs, Rule{From: "clients/", Forbid: []string{"keepers/", "actions/", "demo/", "cmd/", "localnet/"},
		Why: "clients/ is the bottom layer: the keeper, Actions, the CLI and the demo build on it, never the reverse"})
	for _, p := range append(product, "tools/") {
		rs = append(rs, Rule{From: p, Forbid: []string{"keepers/keeperd"}, Except: []string{"cmd/keeper"},
			Why: "keepers/keeperd only wires the keeper daemon for cmd/keeper; what others need lives in the package that does it (keeperconfig, keeperapi, chaincache, …)"})
	}
	rs = append(rs, Rule{From: "keepers/chaincache", Forbid: []string{"keepers/gateway", "keepers/settler", "keepers/keeperd", "keepers/keeperapi"},
		Why: "the chain caches sit below their readers: the gateway reads them and the settler refreshes them, never the reverse"})
	return rs
}()

// Graph maps each package of the module (path relative to the module, e.g.
// "keepers/keeperd") to the module packages it imports.
type Graph map[string][]string

// Violation is one forbidden dependency and the import chain that makes it.
type Violation struct {
	Rule  Rule
	Chain []string // importer first, forbidden package last
}

func (v Violation) String() string {
	return fmt.Sprintf("%s must not import %s (%s): %s", v.Chain[0], v.Chain[len(v.Chain)-1], v.Rule.Why, strings.Join(v.Chain, " → "))
}

func under(pkg, prefix string) bool {
	return pkg+"/" == prefix || strings.HasPrefix(pkg, prefix)
}

// Check returns the violations of rules in g, sorted by importer.
func Check(g Graph, rules []Rule) []Violation {
	pkgs := make([]string, 0, len(g))
	for p := range g {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	var out []Violation
	for _, r := range rules {
		for _, p := range pkgs {
			if !under(p, r.From) || contains(r.Except, p) {
				continue
			}
			for _, chain := range reach(g, p) {
				dep := chain[len(chain)-1]
				for _, f := range r.Forbid {
					if under(dep, f) {
						out = append(out, Violation{Rule: r, Chain: chain})
						break
					}
				}
			}
		}
	}
	return out
}

// reach returns, for each package p depends on, one shortest import chain
// from p to it.
func reach(g Graph, p string) [][]string {
	parent := map[string]string{p: ""}
	queue := []string{p}
	var chains [][]string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		deps := append([]string(nil), g[cur]...)
		sort.Strings(deps)
		for _, d := range deps {
			if _, seen := parent[d]; seen {
				continue
			}
			parent[d] = cur
			queue = append(queue, d)
			var chain []string
			for at := d; at != ""; at = parent[at] {
				chain = append([]string{at}, chain...)
			}
			chains = append(chains, chain)
		}
	}
	return chains
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

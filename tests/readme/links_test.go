package readme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// Every relative link in README.md and docs/*.md leads to a file that
// exists and, with an anchor, to a heading of it.
func TestDocumentationLinksResolve(t *testing.T) {
	root, err := golocal.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("docs/ has no Markdown files")
	}
	for _, f := range append([]string{filepath.Join(root, "README.md")}, docs...) {
		broken, err := BrokenLinks(root, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range broken {
			t.Error(strings.TrimPrefix(b, root+"/"))
		}
	}
}

func TestBrokenLinksFindsMissingFilesAndAnchors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.md", "# Keeper operations\n## Journal backups, restores and damage\n")
	write("a.md", "[ok](b.md) [ok](b.md#journal-backups-restores-and-damage) [self](#top)\n# Top\n"+
		"[gone](c.md) [bad anchor](b.md#nope) [web](https://example.org/x) [out](../x.md)\n"+
		"```\n[in a fence](nowhere.md)\n```\n`[in code](nowhere.md)`\n")
	broken, err := BrokenLinks(dir, filepath.Join(dir, "a.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(broken) != 3 || !strings.Contains(broken[0], "c.md: no such file") || !strings.Contains(broken[1], "b.md#nope: no heading") ||
		!strings.Contains(broken[2], "../x.md: outside the repository") {
		t.Fatalf("broken = %q", broken)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		" Journal backups, restores and damage":                         "journal-backups-restores-and-damage",
		"Walkthrough: launch your model, run a keeper, pay for a query": "walkthrough-launch-your-model-run-a-keeper-pay-for-a-query",
		"Program instructions: transaction size (`mt_treasury`)":        "program-instructions-transaction-size-mt_treasury",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// The README's design link is the repository's own docs/design.md (issue 17
// item 7: it pointed at ../shared/DESIGN.md, outside the repository), and
// nothing says the demo waits for governance periods in real time (item 4:
// it moves the chain's clock).
func TestREADMEClaims(t *testing.T) {
	root, readme := readREADME(t)
	if !strings.Contains(readme, "](docs/design.md)") {
		t.Error("README.md does not link docs/design.md")
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, f := range append(docs, filepath.Join(root, "README.md")) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(string(data)), "in real time") {
			t.Errorf("%s says something happens in real time: the demo moves the chain's clock (mt localnet warp)", strings.TrimPrefix(f, root+"/"))
		}
	}
}

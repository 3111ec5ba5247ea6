package readme

import (
	"strings"
	"testing"
)

func TestWalkthroughBlocks(t *testing.T) {
	doc := strings.Join([]string{
		"# x",
		"```sh",
		"outside",
		"```",
		"<!-- walkthrough:begin (run) -->",
		"```sh",
		"echo one",
		"echo two",
		"```",
		"```toml",
		"```sh is not a fence start inside toml",
		"```",
		"```text",
		"not run",
		"```",
		"```sh",
		"echo three",
		"```",
		"<!-- walkthrough:end -->",
		"```sh",
		"after",
		"```",
	}, "\n")
	got, err := WalkthroughBlocks(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Code != "echo one\necho two\n" || got[1].Code != "echo three\n" {
		t.Fatalf("blocks = %+v", got)
	}
	if got[0].Line != 7 || got[1].Line != 17 {
		t.Fatalf("lines = %d, %d; want 7, 17", got[0].Line, got[1].Line)
	}
}

func TestWalkthroughBlocksRefusesMissingOrOpenSections(t *testing.T) {
	for name, doc := range map[string]string{
		"no markers":   "```sh\necho\n```\n",
		"no end":       "<!-- walkthrough:begin -->\n```sh\necho\n```\n",
		"unclosed":     "<!-- walkthrough:begin -->\n```sh\necho\n<!-- walkthrough:end -->\n",
		"no sh blocks": "<!-- walkthrough:begin -->\n```text\necho\n```\n<!-- walkthrough:end -->\n",
	} {
		if _, err := WalkthroughBlocks(doc); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

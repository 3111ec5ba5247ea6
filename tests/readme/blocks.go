package readme

import (
	"errors"
	"fmt"
	"strings"
)

// The markers around the README's walkthrough: every ```sh block between
// them is run, in order, by TestREADMEWalkthrough.
const (
	beginMarker = "<!-- walkthrough:begin"
	endMarker   = "<!-- walkthrough:end -->"
)

// Block is one fenced ```sh block of the walkthrough.
type Block struct {
	// Line is the block's first command line in README.md (1-based).
	Line int
	Code string
}

// WalkthroughBlocks returns the ```sh blocks between the walkthrough
// markers of a Markdown document. Other fences (```text, ```toml) are
// shown to the reader but not run.
func WalkthroughBlocks(markdown string) ([]Block, error) {
	lines := strings.Split(markdown, "\n")
	begin, end := -1, -1
	for i, l := range lines {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), beginMarker):
			if begin >= 0 {
				return nil, errors.New("two walkthrough:begin markers")
			}
			begin = i
		case strings.TrimSpace(l) == endMarker:
			end = i
		}
	}
	if begin < 0 || end < 0 || end < begin {
		return nil, fmt.Errorf("no walkthrough section: want %q … %q in that order", beginMarker, endMarker)
	}
	var blocks []Block
	var cur *Block
	var code []string
	for i := begin + 1; i < end; i++ {
		l := lines[i]
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			if strings.TrimPrefix(trimmed, "```") == "sh" {
				cur = &Block{Line: i + 2}
				code = code[:0]
			} else {
				// A fence that is not run: skip to its end.
				for i++; i < end && strings.TrimSpace(lines[i]) != "```"; i++ {
				}
			}
		case cur != nil && trimmed == "```":
			cur.Code = strings.Join(code, "\n") + "\n"
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			code = append(code, l)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: sh block not closed before the walkthrough's end", cur.Line-1)
	}
	if len(blocks) == 0 {
		return nil, errors.New("the walkthrough section has no ```sh blocks")
	}
	return blocks, nil
}

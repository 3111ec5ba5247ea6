package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// mdTable is a Markdown table as progbench prints it.
type mdTable struct {
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// parseTables reads every Markdown table in text.
func parseTables(text string) []mdTable {
	var out []mdTable
	var cur *mdTable
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			cur = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cur == nil {
			out = append(out, mdTable{Header: cells})
			cur = &out[len(out)-1]
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		cur.Rows = append(cur.Rows, cells)
	}
	return out
}

func (t mdTable) col(name string) int {
	for i, h := range t.Header {
		if strings.HasPrefix(h, name) {
			return i
		}
	}
	return -1
}

// programsResult is progbench's output: instructions and settle capacity.
type programsResult struct {
	URL          string  `json:"url"`
	UnitsReal    bool    `json:"units_real"`
	Instructions mdTable `json:"instructions"`
	Capacity     mdTable `json:"capacity"`
	Raw          string  `json:"-"`
}

// runProgbench runs `go run ./tools/progbench` (the local chain, or
// MC_RPC_URL) and parses what it prints.
func runProgbench(ctx context.Context, root, out string) (*programsResult, error) {
	cmd := exec.CommandContext(ctx, "go", "run", "./tools/progbench", "-out", filepath.Join(out, "programs.md"))
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("progbench: %v\n%s", err, tailString(stderr.String(), 20))
	}
	r := &programsResult{Raw: stdout.String(), URL: os.Getenv("MC_RPC_URL"), UnitsReal: os.Getenv("MC_RPC_URL") != ""}
	for _, t := range parseTables(stdout.String()) {
		switch {
		case t.col("settle batch shape") >= 0:
			r.Capacity.Header = t.Header
			r.Capacity.Rows = append(r.Capacity.Rows, t.Rows...)
		case t.col("instruction") >= 0:
			if r.Instructions.Header == nil {
				r.Instructions.Header = t.Header
			}
			r.Instructions.Rows = append(r.Instructions.Rows, t.Rows...)
		}
	}
	if len(r.Instructions.Rows) == 0 || len(r.Capacity.Rows) == 0 {
		return nil, fmt.Errorf("progbench printed no instruction or capacity table:\n%s", tailString(stdout.String(), 20))
	}
	return r, nil
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The summary table comes right after the report's header, and every
// section appears once (the llama.cpp section was once written twice, the
// first time above the summary).
func TestRenderPutsTheSummaryFirstAndEachSectionOnce(t *testing.T) {
	var lc llamacppResult
	if err := json.Unmarshal([]byte(`{"requests":2,"output_tokens":16,"rows":[{"streaming":false},{"streaming":true}]}`), &lc); err != nil {
		t.Fatal(err)
	}
	r := &results{LlamaCpp: &lc}
	out := render(r, options{})
	summary := strings.Index(out, "| figure | measured | target | met |")
	section := strings.Index(out, "## In front of a real llama.cpp llama-server")
	if summary < 0 || section < 0 || section < summary {
		t.Fatalf("summary at %d, llama.cpp section at %d:\n%s", summary, section, out)
	}
	if n := strings.Count(out, "## In front of a real llama.cpp llama-server"); n != 1 {
		t.Fatalf("llama.cpp section written %d times", n)
	}
}

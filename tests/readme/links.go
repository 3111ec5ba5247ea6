package readme

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// BrokenLinks returns each relative link of the Markdown file at path that
// does not lead to an existing file, or to an existing heading of it
// (GitHub's anchors), or that leaves root (a file next to this clone is not
// in anyone else's; "" allows any). Links inside code fences are not links.
func BrokenLinks(root, path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var broken []string
	fence := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(stripCode(line), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), file)
			}
			if root != "" && !inside(root, dest) {
				broken = append(broken, fmt.Sprintf("%s:%d: %s: outside the repository", path, i+1, target))
				continue
			}
			if _, err := os.Stat(dest); err != nil {
				broken = append(broken, fmt.Sprintf("%s:%d: %s: no such file", path, i+1, target))
				continue
			}
			if anchor == "" {
				continue
			}
			anchors, err := Anchors(dest)
			if err != nil {
				return nil, err
			}
			if !anchors[anchor] {
				broken = append(broken, fmt.Sprintf("%s:%d: %s: no heading with that anchor", path, i+1, target))
			}
		}
	}
	return broken, nil
}

// stripCode removes inline code spans, where ](…) is not a link.
func stripCode(line string) string {
	parts := strings.Split(line, "`")
	var sb strings.Builder
	for i, p := range parts {
		if i%2 == 0 {
			sb.WriteString(p)
		}
	}
	return sb.String()
}

// Anchors are the anchors GitHub gives a Markdown file's headings.
func Anchors(path string) (map[string]bool, error) {
	out := map[string]bool{}
	if !strings.HasSuffix(path, ".md") {
		return out, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	fence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
			continue
		}
		if fence || !strings.HasPrefix(line, "#") {
			continue
		}
		slug := Slug(strings.TrimLeft(line, "#"))
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out, nil
}

// Slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces to hyphens.
func Slug(heading string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			sb.WriteRune(r)
		case r == ' ':
			sb.WriteRune('-')
		}
	}
	return sb.String()
}

func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

package launchspec

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Template is a complete, valid example spec in format f, each key with its
// meaning, for a creator to edit.
func Template(f Format) (string, error) {
	type entry struct{ section, name, value, comment string }
	var entries []entry
	for _, fd := range Fields {
		section, name, _ := strings.Cut(fd.Key, ".")
		comment := fd.Usage
		if fd.Default != "" {
			comment += " (default " + fd.Default + ")"
		}
		entries = append(entries, entry{section, name, fd.Example, comment})
	}
	var b strings.Builder
	switch f {
	case TOML, YAML:
		b.WriteString("# Model launch spec for `mt model launch --spec <file>`.\n")
		b.WriteString("# MT amounts have 6 decimals; native amounts use the native token's decimals;\n")
		b.WriteString("# periods are spans (30d); start/end are RFC 3339, a date, \"now\" or a span from now.\n")
		section := ""
		for _, e := range entries {
			if e.section != section {
				section = e.section
				if f == TOML {
					fmt.Fprintf(&b, "\n[%s]\n", section)
				} else {
					fmt.Fprintf(&b, "\n%s:\n", section)
				}
			}
			prefix, sep, indent := "", " = ", ""
			if f == YAML {
				sep, indent = ": ", "  "
			}
			if e.value == "" {
				prefix = "# "
			}
			fmt.Fprintf(&b, "%s%s%s%s%q  # %s\n", indent, prefix, e.name, sep, e.value, e.comment)
		}
		return b.String(), nil
	case JSON:
		tree := map[string]map[string]string{}
		for _, e := range entries {
			if e.value == "" {
				continue
			}
			if tree[e.section] == nil {
				tree[e.section] = map[string]string{}
			}
			tree[e.section][e.name] = e.value
		}
		out, err := json.MarshalIndent(tree, "", "  ")
		return string(out) + "\n", err
	}
	return "", fmt.Errorf("unknown format %q: use toml, yaml or json", f)
}

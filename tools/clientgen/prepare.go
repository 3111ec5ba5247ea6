package main

import (
	"encoding/json"
	"fmt"
)

// prepare rewrites an Anchor IDL into the subset anchor-go v1.0.0 reads:
// nested account groups are flattened in order (their accounts keep their
// position in the instruction), type aliases are inlined, and constants of
// types anchor-go cannot express are dropped. Generics are not rewritten:
// the programs keep their public types non-generic instead.
func prepare(idl map[string]any) ([]byte, error) {
	aliases := map[string]any{}
	var types []any
	for _, t := range asSlice(idl["types"]) {
		def := t.(map[string]any)
		if ty, ok := def["type"].(map[string]any); ok && ty["kind"] == "type" {
			aliases[def["name"].(string)] = ty["alias"]
			continue
		}
		types = append(types, def)
	}
	if types == nil {
		types = []any{}
	}
	idl["types"] = types
	for _, ix := range asSlice(idl["instructions"]) {
		m := ix.(map[string]any)
		m["accounts"] = flattenAccounts(asSlice(m["accounts"]))
	}
	var constants []any
	for _, c := range asSlice(idl["constants"]) {
		if simpleConstant(c.(map[string]any)["type"]) {
			constants = append(constants, c)
		}
	}
	if constants != nil {
		idl["constants"] = constants
	} else {
		delete(idl, "constants")
	}
	resolved, err := inlineAliases(idl, aliases, 0)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(resolved, "", "  ")
}

func flattenAccounts(accounts []any) []any {
	var flat []any
	for _, a := range accounts {
		m := a.(map[string]any)
		if nested, ok := m["accounts"]; ok {
			flat = append(flat, flattenAccounts(asSlice(nested))...)
			continue
		}
		flat = append(flat, m)
	}
	return flat
}

func simpleConstant(t any) bool {
	switch t {
	case "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "bool", "string", "pubkey", "bytes":
		return true
	}
	return false
}

// inlineAliases replaces {"defined": {"name": alias}} with the alias's target.
func inlineAliases(v any, aliases map[string]any, depth int) (any, error) {
	if depth > 64 {
		return nil, fmt.Errorf("type alias nesting too deep")
	}
	switch x := v.(type) {
	case map[string]any:
		if def, ok := x["defined"].(map[string]any); ok && len(x) == 1 {
			if target, ok := aliases[def["name"].(string)]; ok {
				return inlineAliases(target, aliases, depth+1)
			}
		}
		for k, val := range x {
			r, err := inlineAliases(val, aliases, depth)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
		return x, nil
	case []any:
		for i, val := range x {
			r, err := inlineAliases(val, aliases, depth)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
		return x, nil
	}
	return v, nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Command clientgen regenerates the Go clients from the committed IDLs:
// it prepares each idl/<program>.json for anchor-go (flattening what anchor-go
// cannot read), runs anchor-go into clients/<program>/, and writes the error
// tables anchor-go does not generate: clients/<program>/program_errors.go
// from the IDL and clients/programerr/anchor_errors.go from
// idl/anchor_errors.json. The programs' #[constant]s (limits, seeds, scales)
// come out as typed Go constants in clients/<program>/constants.go (anchor-go)
// and, for 128-bit ones anchor-go cannot express, constants_wide.go.
//
// Usage (from the repository root): go run ./tools/clientgen
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const modulePath = "github.com/modelcommons/modelcommons"

func main() {
	idlDir := flag.String("idl", "idl", "directory of IDL files")
	outDir := flag.String("out", "clients", "directory of generated clients")
	flag.Parse()
	if err := run(*idlDir, *outDir); err != nil {
		slog.Error("clientgen failed", "err", err)
		os.Exit(1)
	}
}

func run(idlDir, outDir string) error {
	paths, err := filepath.Glob(filepath.Join(idlDir, "*.json"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "clientgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, path := range paths {
		if filepath.Base(path) == "anchor_errors.json" {
			continue
		}
		if err := generateProgram(path, outDir, tmp); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return generateAnchorErrors(filepath.Join(idlDir, "anchor_errors.json"), filepath.Join(outDir, "programerr", "anchor_errors.go"))
}

func generateProgram(idlPath, outDir, tmp string) error {
	raw, err := os.ReadFile(idlPath)
	if err != nil {
		return err
	}
	var idl map[string]any
	if err := json.Unmarshal(raw, &idl); err != nil {
		return fmt.Errorf("parse IDL: %w", err)
	}
	name := idl["metadata"].(map[string]any)["name"].(string)
	// prepare drops the constants anchor-go cannot express; keep them first.
	wide, err := wideConstants(idl)
	if err != nil {
		return err
	}
	prepared, err := prepare(idl)
	if err != nil {
		return err
	}
	preparedPath := filepath.Join(tmp, name+".json")
	if err := os.WriteFile(preparedPath, prepared, 0o644); err != nil {
		return err
	}
	target := filepath.Join(outDir, name)
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	slog.Info("anchor-go", "program", name, "out", target)
	cmd := exec.Command("go", "tool", "anchor-go",
		"-idl", preparedPath, "-output", target, "-name", name,
		"-mod-path", modulePath+"/"+filepath.ToSlash(target), "-no-go-mod")
	// anchor-go logs every file it writes; show its output only when it fails.
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("anchor-go: %w\n%s", err, out)
	}
	if err := fixArglessDiscriminators(filepath.Join(target, "instructions.go")); err != nil {
		return err
	}
	if err := fixUnitEnumVariants(filepath.Join(target, "types.go")); err != nil {
		return err
	}
	if err := writeWideConstants(wide, name, filepath.Base(idlPath), filepath.Join(target, "constants_wide.go")); err != nil {
		return err
	}
	return writeProgramErrors(idl, name, filepath.Base(idlPath), filepath.Join(target, "program_errors.go"))
}

// anchor-go v1.0.0 builds instructions that take no arguments with nil data,
// leaving out the 8-byte Anchor discriminator, so the program rejects them
// (InstructionFallbackNotFound). Every builder it generates ends in
// `solanago.NewInstruction(ProgramID, accounts__, <data>)`; for the argless
// ones <data> is nil, and the discriminator constant Instruction_<Name>
// exists in discriminators.go. This rewrites exactly those returns.
var (
	builderName = regexp.MustCompile(`^New(\w+)Instruction\(`)
	nilData     = regexp.MustCompile(`(return solanago\.NewInstruction\(\s*ProgramID,\s*accounts__,\s*)nil,`)
)

func fixArglessDiscriminators(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// One chunk per top-level function, so a fix never crosses builders.
	chunks := strings.Split(string(src), "\nfunc ")
	for i, chunk := range chunks {
		m := builderName.FindStringSubmatch(chunk)
		if m == nil {
			continue
		}
		chunks[i] = nilData.ReplaceAllString(chunk, "${1}Instruction_"+m[1]+"[:],")
	}
	fixed := strings.Join(chunks, "\nfunc ")
	if nilData.MatchString(fixed) {
		return fmt.Errorf("%s: an instruction builder still sends nil data", path)
	}
	return os.WriteFile(path, []byte(fixed), 0o644)
}

type idlError struct {
	Code uint32 `json:"code"`
	Name string `json:"name"`
	Msg  string `json:"msg"`
}

func writeProgramErrors(idl map[string]any, name, source, path string) error {
	raw, err := json.Marshal(idl["errors"])
	if err != nil {
		return err
	}
	var errs []idlError
	if err := json.Unmarshal(raw, &errs); err != nil {
		return fmt.Errorf("IDL errors: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// Code generated by tools/clientgen from idl/%s. DO NOT EDIT.\n\n", source)
	fmt.Fprintf(&b, "package %s\n\nimport \"%s/clients/programerr\"\n\n", name, modulePath)
	b.WriteString("// The program's errors, for errors.Is against errors decoded from transactions.\nvar (\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "\t// Err%s (%d): %s\n", e.Name, e.Code, e.Msg)
		fmt.Fprintf(&b, "\tErr%s = &programerr.Error{Program: %q, Code: %d, Name: %q, Msg: %q}\n", e.Name, name, e.Code, e.Name, e.Msg)
	}
	b.WriteString(")\n\n// Errors maps the program's error codes to its errors.\nvar Errors = programerr.Table{\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "\t%d: Err%s,\n", e.Code, e.Name)
	}
	b.WriteString("}\n")
	return writeFormatted(path, b.String())
}

func generateAnchorErrors(source, path string) error {
	raw, err := os.ReadFile(source)
	if err != nil {
		return err
	}
	var errs []idlError
	if err := json.Unmarshal(raw, &errs); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Code < errs[j].Code })
	var b strings.Builder
	b.WriteString("// Code generated by tools/clientgen from idl/anchor_errors.json. DO NOT EDIT.\n\n")
	b.WriteString("package programerr\n\n// Anchor's framework errors (account constraints, deserialization, …).\nvar (\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "\t// Anchor%s (%d): %s\n", e.Name, e.Code, e.Msg)
		fmt.Fprintf(&b, "\tAnchor%s = &Error{Program: \"anchor\", Code: %d, Name: %q, Msg: %q}\n", e.Name, e.Code, e.Name, e.Msg)
	}
	b.WriteString(")\n\n// AnchorErrors maps Anchor's framework error codes to their errors.\nvar AnchorErrors = Table{\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "\t%d: Anchor%s,\n", e.Code, e.Name)
	}
	b.WriteString("}\n")
	return writeFormatted(path, b.String())
}

func writeFormatted(path, src string) error {
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		return err
	}
	out, err := exec.Command("gofmt", "-w", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("gofmt %s: %v: %s", path, err, out)
	}
	return nil
}

// anchor-go v1.0.0 declares a unit variant of an enum that also has data
// variants (e.g. `Signal` in `enum ProposalAction { SetPrice{..}, Signal }`)
// as `type ProposalAction_Signal uint8`. gagliardetto/binary encodes the
// selected variant of such an enum as a primitive when its kind is uint8, so
// the variant goes on the wire as two bytes (tag + 0) and the program
// rejects it; decoding likewise reads a byte too many. An empty struct
// encodes as nothing, which is Borsh for a unit variant.
var unitVariant = regexp.MustCompile(`type (\w+)_(\w+) uint8\n\nfunc \(obj \w+_\w+\) MarshalWithEncoder\(encoder \*binary\.Encoder\) \(err error\) \{\n\treturn nil\n\}`)

func fixUnitEnumVariants(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out := string(src)
	for _, m := range unitVariant.FindAllStringSubmatch(string(src), -1) {
		enum, variant := m[1], m[2]
		typ := enum + "_" + variant
		out = strings.Replace(out, "type "+typ+" uint8\n", "type "+typ+" struct{}\n", 1)
		cast := "return (*" + typ + ")(&tmp.Enum), nil"
		if !strings.Contains(out, cast) {
			return fmt.Errorf("%s: decoder of %s not found", path, typ)
		}
		out = strings.Replace(out, cast, "return &tmp."+variant+", nil", 1)
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

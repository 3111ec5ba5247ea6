package driver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// Bins are the executables the demo and the tests drive.
type Bins struct {
	MT, Keeper, Workersim, Localnet string
	// Python is the interpreter of the repository's .venv (the official
	// openai package, installed by scripts/setup.sh).
	Python string
	// Root is the repository (demo/openai_user.py is read from it).
	Root string
}

// Build compiles mt, keeper and workersim from the repository at root into
// dir, and locates the local chain and the Python venv.
func Build(ctx context.Context, root, dir string) (Bins, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Bins{}, err
	}
	b := Bins{
		MT: filepath.Join(dir, "mt"), Keeper: filepath.Join(dir, "keeper"), Workersim: filepath.Join(dir, "workersim"),
		Python: filepath.Join(root, ".venv", "bin", "python"), Root: root,
	}
	for pkg, out := range map[string]string{"./cmd/mt": b.MT, "./cmd/keeper": b.Keeper, "./cmd/workersim": b.Workersim} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return Bins{}, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return b, b.locate()
}

// Existing uses binaries already built into dir (as scripts/demo.sh does).
func Existing(root, dir string) (Bins, error) {
	b := Bins{
		MT: filepath.Join(dir, "mt"), Keeper: filepath.Join(dir, "keeper"), Workersim: filepath.Join(dir, "workersim"),
		Python: filepath.Join(root, ".venv", "bin", "python"), Root: root,
	}
	for _, p := range []string{b.MT, b.Keeper, b.Workersim} {
		if _, err := os.Stat(p); err != nil {
			return Bins{}, fmt.Errorf("%s missing: build it (go build -o %s ./cmd/%s)", p, p, filepath.Base(p))
		}
	}
	return b, b.locate()
}

func (b *Bins) locate() error {
	ln, err := golocal.Binary()
	if err != nil {
		return err
	}
	b.Localnet = ln
	if _, err := os.Stat(b.Python); err != nil {
		return fmt.Errorf("%s missing: run ./scripts/setup.sh (it creates .venv with the openai package)", b.Python)
	}
	return nil
}

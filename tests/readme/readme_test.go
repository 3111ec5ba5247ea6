package readme

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// readREADME returns the repository's root and its README.md.
func readREADME(t *testing.T) (root, text string) {
	t.Helper()
	root, err := golocal.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return root, string(data)
}

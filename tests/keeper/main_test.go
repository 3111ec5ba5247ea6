package keeper_test

import (
	"os"
	"testing"
)

// TestMain removes the binaries the crash harness built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

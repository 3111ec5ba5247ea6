package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// runWithEnv runs a binary with extra environment and returns its stdout.
func runWithEnv(ctx context.Context, env []string, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out, fmt.Errorf("%v: %s", err, ee.Stderr)
	}
	return out, err
}

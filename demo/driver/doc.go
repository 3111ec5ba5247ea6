// Package driver runs the product's real binaries the way a user does —
// the mt CLI with --output json, keeper run with a configuration file,
// workersim as GPU workers, the local chain, and the official OpenAI
// Python client — for the demo (cmd/mcdemo) and the end-to-end tests
// (tests/e2e).
//
// Every process it starts is registered with a Procs, in its own process
// group, with its output in a log file; Procs.StopAll ends them all
// (SIGTERM, then SIGKILL after a grace period), so a demo interrupted with
// Ctrl-C or a failed test leaves nothing running. Nothing here holds
// product logic: results come from the binaries' JSON output and from the
// chain.
package driver

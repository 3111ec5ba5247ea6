package readme

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/apikey"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// escrowDeposit is what the walkthrough's `mt escrow open --deposit 5`
// puts in the lane, in base units (6 decimals).
const escrowDeposit = 5_000_000

// TestREADMEWalkthrough runs the README's walkthrough as a newcomer would
// paste it: every ```sh block of the marked section, in order, in one
// working directory, with mt, keeper and workersim built from this tree on
// PATH and a fresh local chain. Only the variables the README itself tells
// the user to set (ports) are given, so that parallel tests do not collide.
// After the query it checks the money on chain to the base unit: the
// escrow's lane debited by what it was charged, and that charge split
// between the protocol's fee vault, the operator and the model's treasury
// exactly as clients/settlement splits it.
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries and runs a keeper against a local chain")
	}
	for _, tool := range []string{"bash", "curl", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's walkthrough uses %s, which is not installed", tool)
		}
	}
	root, readme := readREADME(t)
	blocks, err := WalkthroughBlocks(readme)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", "./cmd/mt", "./cmd/keeper", "./cmd/workersim")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The walkthrough runs from the repository's root and reads the local
	// chain's upgrade authority from keys/; a scratch copy of that much
	// keeps the test's files out of the tree.
	work := filepath.Join(tmp, "repo")
	if err := os.MkdirAll(filepath.Join(work, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(root, "keys", "localnet-upgrade-authority.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "keys", "localnet-upgrade-authority.json"), key, 0o600); err != nil {
		t.Fatal(err)
	}

	// Always a fresh chain: the walkthrough initialises the protocol.
	chain, stop, err := golocal.Launch(filepath.Join(tmp, "localnet.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	sh := &shell{t: t, dir: work, state: filepath.Join(tmp, "state.sh"), env: walkthroughEnv(t, bin, tmp, chain.URL)}
	defer sh.stopBackground()

	var before map[solana.PublicKey]uint64
	var shown strings.Builder
	for _, b := range blocks {
		if strings.Contains(b.Code, "/v1/chat/completions") {
			before = balances(ctx, t, chain.RPC, filepath.Join(sh.cwd(), "operator.json"))
		}
		shown.WriteString(sh.run(ctx, b))
	}
	// What the newcomer reads names its units (issue 17 item 8).
	for _, re := range []string{
		`(?m)^\S+\s+settled\s+1\s.*\s\d+ base units\s`, // keeper receipts: the run's cost
		`Spent:\s+[0-9.]+ native tokens`,               // mt escrow show
		`node \S+: [0-9.]+ native tokens left, [0-9.]+ native tokens spent`,
		`treasury \(native\):\s+\S+\s+[0-9.]+ native`, // mt model show
		`[0-9.]+ native per 1k input tokens`,
	} {
		if !regexp.MustCompile(re).MatchString(shown.String()) {
			t.Errorf("the walkthrough's output has no amount with its unit matching %s", re)
		}
	}
	if before == nil {
		t.Fatal("the walkthrough never sends a query (no block with /v1/chat/completions)")
	}
	checkMoney(ctx, t, chain.RPC, sh.cwd(), before)
}

// walkthroughEnv is a clean environment: a private HOME (so nothing reads
// or writes the developer's Solana or keeper configuration), the built
// binaries first on PATH, and free ports for the README's variables.
func walkthroughEnv(t *testing.T, bin, tmp, rpcURL string) []string {
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + home,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"RPC_URL=" + rpcURL,
		"WORKER=" + freeAddr(t),
		"KEEPER_LISTEN=" + freeAddr(t),
		"KEEPER_ADMIN_LISTEN=" + freeAddr(t),
		"NO_COLOR=1",
	}
	for _, k := range []string{"GOCACHE", "GOPATH", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// shell runs the blocks one at a time in bash, carrying the exported
// variables and the working directory from one block to the next as a
// terminal would. Each block runs in its own process group, which its
// background jobs (the worker, the keeper) join; stopBackground ends them.
type shell struct {
	t     *testing.T
	dir   string
	state string
	env   []string
	pgids []int
}

func (s *shell) cwd() string {
	if b, err := os.ReadFile(s.state + ".cwd"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return s.dir
}

// run runs one block and returns what it printed.
func (s *shell) run(ctx context.Context, b Block) string {
	s.t.Helper()
	script := fmt.Sprintf(`set -eE
trap 'echo "walkthrough: command failed (exit $?): $BASH_COMMAND" >&2' ERR
[ -f %[1]q ] && source %[1]q
cd %[2]q
%[3]s
export -p > %[1]q
pwd > %[1]q.cwd
`, s.state, s.cwd(), b.Code)
	// A block that hangs (a keeper that never becomes ready) fails alone.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = s.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Background jobs redirect their output to files; should one not, its
	// open pipe must not hold the test.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Start()
	if err == nil {
		s.pgids = append(s.pgids, cmd.Process.Pid)
		err = cmd.Wait()
	}
	s.t.Logf("README.md:%d\n%s--- output:\n%s", b.Line, b.Code, out.String())
	if err != nil {
		s.t.Fatalf("README.md:%d: the walkthrough block failed: %v\n%s--- output:\n%s%s", b.Line, err, b.Code, out.String(), s.logs())
	}
	return out.String()
}

// logs is the tail of the keeper's and the worker's logs, for a failure.
func (s *shell) logs() string {
	var sb strings.Builder
	for _, name := range []string{"keeper.log", "worker.log"} {
		data, err := os.ReadFile(filepath.Join(s.cwd(), name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&sb, "--- %s (last lines):\n%s\n", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
	return sb.String()
}

func (s *shell) stopBackground() {
	for _, pgid := range s.pgids {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
	}
	time.Sleep(500 * time.Millisecond)
	for _, pgid := range s.pgids {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// balances reads the token accounts settlement pays into or out of.
func balances(ctx context.Context, t *testing.T, client *rpc.Client, operatorKeyFile string) map[solana.PublicKey]uint64 {
	t.Helper()
	out := map[solana.PublicKey]uint64{}
	for _, a := range payees(ctx, t, client, operatorKeyFile) {
		b, err := tokens.Balance(ctx, client, a)
		if err != nil {
			t.Fatalf("balance of %s: %v", a, err)
		}
		out[a] = b
	}
	return out
}

func meterConfig(ctx context.Context, t *testing.T, client *rpc.Client) *im.MeterConfig {
	t.Helper()
	data := accountData(ctx, t, client, pda.Meter())
	m, err := im.ParseAccount_MeterConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// payees: the escrow vault, the protocol's fee vault, the operator's
// native-token account and model 0's treasury and revenue vaults.
func payees(ctx context.Context, t *testing.T, client *rpc.Client, operatorKeyFile string) []solana.PublicKey {
	t.Helper()
	m := meterConfig(ctx, t, client)
	op, err := solana.PrivateKeyFromSolanaKeygenFile(operatorKeyFile)
	if err != nil {
		t.Fatalf("the walkthrough's operator key: %v", err)
	}
	model := pda.Model(0)
	return []solana.PublicKey{
		pda.EscrowVault(), pda.FeeVault(), tokens.ATA(op.PublicKey(), m.NativeMint, m.NativeTokenProgram),
		pda.TreasuryVault(model), pda.RevenueVault(model),
	}
}

func accountData(ctx context.Context, t *testing.T, client *rpc.Client, key solana.PublicKey) []byte {
	t.Helper()
	res, err := client.GetAccountInfoWithOpts(ctx, key, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil || res == nil || res.Value == nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return res.Value.Data.GetBinary()
}

// checkMoney: the escrow opened with 5 native tokens in the node's lane
// was charged for the query, and the charge went where settle sends it.
func checkMoney(ctx context.Context, t *testing.T, client *rpc.Client, dir string, before map[solana.PublicKey]uint64) {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(dir, "api.key"))
	if err != nil {
		t.Fatalf("the walkthrough's API key: %v", err)
	}
	escrow, err := im.ParseAccount_Escrow(accountData(ctx, t, client, pda.Escrow(apikey.ID(strings.TrimSpace(string(key))))))
	if err != nil {
		t.Fatal(err)
	}
	if escrow.Spent == 0 {
		t.Fatal("the escrow was charged nothing: the query was not settled")
	}
	op, err := solana.PrivateKeyFromSolanaKeygenFile(filepath.Join(dir, "operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	lane := settlement.LaneOf(escrow, pda.Node(op.PublicKey()))
	if lane == nil || lane.Spent != escrow.Spent || lane.Balance != escrowDeposit-escrow.Spent || escrow.Unpaid != 0 {
		t.Fatalf("escrow: spent %d, unpaid %d, lane %+v; want the lane to the operator's node at %d - %d", escrow.Spent, escrow.Unpaid, lane, escrowDeposit, escrow.Spent)
	}
	m := meterConfig(ctx, t, client)
	split, err := settlement.SplitCharged(escrow.Spent, m.SettlementFeeBps, m.OperatorShareBps)
	if err != nil {
		t.Fatal(err)
	}
	after := balances(ctx, t, client, filepath.Join(dir, "operator.json"))
	p := payees(ctx, t, client, filepath.Join(dir, "operator.json"))
	delta := func(a solana.PublicKey) int64 { return int64(after[a]) - int64(before[a]) }
	want := []struct {
		name    string
		account solana.PublicKey
		delta   int64
	}{
		{"escrow vault (opened with 5, less the charge)", p[0], escrowDeposit - int64(escrow.Spent)},
		{"protocol fee vault", p[1], int64(split.ToProtocol)},
		{"operator", p[2], int64(split.ToOperator)},
		// No MT is deposited: the depositors' share goes to the treasury.
		{"model 0 treasury", p[3], int64(split.ToModel)},
		{"model 0 revenue vault", p[4], 0},
	}
	for _, w := range want {
		if got := delta(w.account); got != w.delta {
			t.Errorf("%s: moved %d base units, want %d (charged %d: %+v)", w.name, got, w.delta, escrow.Spent, split)
		}
	}
	t.Logf("escrow charged %d base units: protocol %d, operator %d, treasury %d", escrow.Spent, split.ToProtocol, split.ToOperator, split.ToModel)
}

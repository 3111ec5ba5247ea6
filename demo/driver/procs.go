package driver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Procs owns the processes a demo or test started.
type Procs struct {
	dir    string
	mu     sync.Mutex
	list   []*Proc
	onStop []func()
}

// OnStop registers fn to run at the end of StopAll (e.g. a local chain's stop).
func (ps *Procs) OnStop(fn func()) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.onStop = append(ps.onStop, fn)
}

// NewProcs keeps the processes' logs in dir.
func NewProcs(dir string) (*Procs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	return &Procs{dir: dir}, nil
}

// Dir is where the logs are.
func (ps *Procs) Dir() string { return ps.dir }

// Proc is one running process.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// ReadyFunc looks at one output line (stdout or stderr) and reports what
// it found once the process is ready.
type ReadyFunc func(line string) (string, bool)

// Start runs bin with args in its own process group, its output appended to
// <dir>/<name>.log, and waits (up to timeout) until ready matches a line of
// its output; it returns what ready found. A nil ready returns at once.
func (ps *Procs) Start(ctx context.Context, name string, env []string, ready ReadyFunc, timeout time.Duration, bin string, args ...string) (*Proc, string, error) {
	logPath := filepath.Join(ps.dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(logFile, "=== %s %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()

	found := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		matched := ready == nil
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			if !matched {
				if v, ok := ready(line); ok {
					matched = true
					found <- v
				}
			}
		}
		_, _ = io.Copy(logFile, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		<-copied
		logFile.Close()
		close(p.done)
	}()
	if ready == nil {
		return p, "", nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-found:
		return p, v, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited before it was ready (%v); its log %s:\n%s", name, p.err, logPath, Tail(logPath, 30))
	case <-t.C:
		p.Kill()
		return nil, "", fmt.Errorf("%s not ready within %s; its log %s:\n%s", name, timeout, logPath, Tail(logPath, 30))
	case <-ctx.Done():
		p.Kill()
		return nil, "", ctx.Err()
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL to the process group and waits for the process.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM, waits up to grace, then kills.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Wait waits until the process ends and returns its exit error.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// StopAll stops every process still running, newest first.
func (ps *Procs) StopAll() {
	ps.mu.Lock()
	list := append([]*Proc(nil), ps.list...)
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for i := len(list) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(p *Proc) {
			defer wg.Done()
			p.Stop(5 * time.Second)
		}(list[i])
	}
	wg.Wait()
	ps.mu.Lock()
	fns := ps.onStop
	ps.onStop = nil
	ps.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Tail is the last n lines of a file.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

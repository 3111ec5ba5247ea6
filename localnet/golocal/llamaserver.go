package golocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// LlamaServerPaths are llama.cpp's llama-server binary and the tiny test
// model scripts/setup.sh builds and writes (scripts/llama-server.sh):
// $MC_LLAMA_SERVER and $MC_LLAMA_MODEL if set, else bin/llama-server and
// tiny.gguf in $FIXTURECAP_CACHE (default ~/.cache/modelcommons/fixturecap).
// A missing file is an error that says to run the set-up.
func LlamaServerPaths() (bin, model string, err error) {
	bin = os.Getenv("MC_LLAMA_SERVER")
	if bin == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", "", err
		}
		bin = filepath.Join(root, "bin", "llama-server")
	}
	model = os.Getenv("MC_LLAMA_MODEL")
	if model == "" {
		cache := os.Getenv("FIXTURECAP_CACHE")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", "", err
			}
			cache = filepath.Join(home, ".cache", "modelcommons", "fixturecap")
		}
		model = filepath.Join(cache, "tiny.gguf")
	}
	for _, p := range []string{bin, model} {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("%s not found: run ./scripts/setup.sh --llama-server (it builds llama.cpp's llama-server once) or set MC_LLAMA_SERVER and MC_LLAMA_MODEL", p)
		}
	}
	return bin, model, nil
}

// LlamaServer is a running llama-server serving the tiny model under one
// alias on a fixed local port, so that it can be killed and started again
// at the same URL.
type LlamaServer struct {
	URL   string
	Alias string
	bin   string
	args  []string
	log   string
	cmd   *exec.Cmd
	done  chan struct{}
}

// StartLlamaServer starts llama-server with the tiny model as alias, on a
// free port, logging to logPath, and waits until /health answers 200.
// extra are more llama-server flags (they override the defaults: the
// recorder's -c 512 -np 1 -t 2 --seed 42).
func StartLlamaServer(ctx context.Context, alias, logPath string, extra ...string) (*LlamaServer, error) {
	bin, model, err := LlamaServerPaths()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &LlamaServer{
		URL: "http://127.0.0.1:" + strconv.Itoa(port), Alias: alias, bin: bin, log: logPath,
		args: append([]string{"-m", model, "-a", alias, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"-c", "512", "-np", "1", "-t", "2", "--seed", "42"}, extra...),
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Start (re)starts the server with its first command line and waits until
// it is ready.
func (s *LlamaServer) Start(ctx context.Context) error {
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start llama-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := s.WaitHealthy(ctx, 60*time.Second); err != nil {
		s.Kill()
		return fmt.Errorf("%w; log %s:\n%s", err, s.log, tail(s.log, 20))
	}
	return nil
}

// StartLoading starts the server with its command line but a model path
// that is a FIFO nobody writes to: it listens and answers /health with its
// real "Loading model" 503 until killed. It returns once it does.
func (s *LlamaServer) StartLoading(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "llama-loading")
	if err != nil {
		return err
	}
	fifo := filepath.Join(dir, "model.gguf")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		os.RemoveAll(dir)
		return err
	}
	args := append([]string(nil), s.args...)
	args[1] = fifo // after "-m"
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start llama-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); os.RemoveAll(dir); close(done) }()
	s.cmd, s.done = cmd, done
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/health", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				return nil
			}
		}
		select {
		case <-done:
			return errors.New("llama-server exited while loading")
		case <-ctx.Done():
			s.Kill()
			return fmt.Errorf("llama-server at %s never answered 503 while loading", s.URL)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WaitHealthy waits until /health answers 200 (it answers 503 while the
// model loads).
func (s *LlamaServer) WaitHealthy(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/health", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("llama-server exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("llama-server at %s not ready within %s", s.URL, within)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill SIGKILLs the server and waits for it to exit.
func (s *LlamaServer) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Pid is the running server's process id.
func (s *LlamaServer) Pid() int { return s.cmd.Process.Pid }

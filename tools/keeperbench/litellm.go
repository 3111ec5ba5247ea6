package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// litellmProxy is a LiteLLM proxy (the peer baseline: the gateway most
// operators would otherwise put in front of their workers) serving
// bench-model from the same worker simulator, on 127.0.0.1 only.
type litellmProxy struct {
	cmd *exec.Cmd
	URL string
	// Key is the proxy's master key: requests authenticate with it, as
	// the keeper's do with an API key.
	Key  string
	log  string
	done chan struct{}
}

// startLiteLLM runs `<venv>/bin/litellm` with a one-model config pointing
// at workerURL. The process gets a scrubbed environment (its own HOME, no
// inherited variables besides PATH): it holds no credentials and its
// telemetry is off.
func startLiteLLM(venv, workerURL, dir string) (*litellmProxy, error) {
	bin := filepath.Join(venv, "bin", "litellm")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("LiteLLM not installed at %s (./scripts/bench.sh installs it): %w", bin, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	home := filepath.Join(dir, "litellm-home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "litellm-config.yaml")
	yaml := fmt.Sprintf(`model_list:
  - model_name: bench-model
    litellm_params:
      model: openai/bench-model
      api_base: %s/v1
      api_key: sk-keeperbench-none
litellm_settings:
  telemetry: false
  drop_params: true
  turn_off_message_logging: true
`, workerURL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "litellm.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", cfg, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--num_workers", fmt.Sprint(runtime.GOMAXPROCS(0)))
	var kb [24]byte
	if _, err := rand.Read(kb[:]); err != nil {
		return nil, err
	}
	key := "sk-" + hex.EncodeToString(kb[:])
	cmd.Env = []string{
		"LITELLM_MASTER_KEY=" + key,
		"PATH=" + filepath.Join(venv, "bin") + ":/usr/bin:/bin", "HOME=" + home, "LITELLM_TELEMETRY=False",
		"LITELLM_LOG=ERROR", "LITELLM_LOCAL_MODEL_COST_MAP=True", "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "PYTHONDONTWRITEBYTECODE=1",
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start litellm: %w", err)
	}
	p := &litellmProxy{cmd: cmd, Key: key, URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	deadline := time.Now().Add(4 * time.Minute) // the first start after an install is slow
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("litellm exited before it was ready; log %s:\n%s", logPath, tailFile(logPath, 20))
		default:
		}
		resp, err := http.Get(p.URL + "/health/liveliness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.Stop()
	return nil, fmt.Errorf("litellm not ready within 4 minutes; log %s:\n%s", logPath, tailFile(logPath, 20))
}

// drain waits (at most 30 s) until the proxy has worked off a saturated
// step's backlog — one request answered within 100 ms — so that its
// leftover work does not load the next step's other targets.
func (p *litellmProxy) drain(client *http.Client, body []byte) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		t := time.Now()
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+p.Key)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if time.Since(t) < 100*time.Millisecond {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Stop ends the proxy's process group.
func (p *litellmProxy) Stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func tailFile(path string, n int) string {
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

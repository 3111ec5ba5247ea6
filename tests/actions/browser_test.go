package actions_test

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/tests/treasury"
)

// chromium finds Debian's Chromium (CHROMIUM_BIN overrides). Missing, the
// test fails: scripts/setup.sh installs it, and CI runs setup first.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: run ./scripts/setup.sh (it installs Debian's chromium package), or set CHROMIUM_BIN")
	return ""
}

// page lists a model's actions the way a blink client does, from another
// origin: actions.json, the model's metadata (with the exposed
// X-Action-Version and X-Blockchain-Ids headers), its icon, one button per
// linked action with its parameters, a preflighted POST that is refused
// (its error message shown) and one that returns a transaction. A control
// request to a server without CORS headers must be blocked by the browser.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Model Commons actions</title></head>
<body>
<h1 id="title">loading</h1>
<img id="icon" alt="icon" width="64" height="64">
<p id="description"></p>
<p id="headers"></p>
<p id="rules"></p>
<ul id="links"></ul>
<p id="refused"></p>
<p id="transaction"></p>
<p id="control"></p>
<p id="status">running</p>
<script>
const api = {{.API}}, model = {{.Model}}, wallet = {{.Wallet}}, control = {{.Control}};
const $ = (id) => document.getElementById(id);
const iconLoaded = new Promise((resolve) => {
  $("icon").onload = () => resolve("icon loaded " + $("icon").naturalWidth + "px");
  $("icon").onerror = () => resolve("icon failed");
});
async function main() {
  const rules = await (await fetch(api + "/actions.json")).json();
  $("rules").textContent = "rules: " + rules.rules.map((r) => r.pathPattern + " -> " + r.apiPath).join("; ");

  const res = await fetch(api + "/api/actions/models/" + model);
  $("headers").textContent = "version " + res.headers.get("X-Action-Version") + ", chain " + res.headers.get("X-Blockchain-Ids");
  const action = await res.json();
  $("title").textContent = action.title;
  $("description").textContent = action.description;
  $("icon").src = action.icon;
  for (const link of action.links.actions) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.textContent = link.label;
    li.appendChild(button);
    for (const p of link.parameters || []) {
      const input = document.createElement("input");
      input.type = p.type || "text";
      input.name = p.name;
      input.placeholder = p.label;
      if (p.min !== undefined) input.min = p.min;
      if (p.max !== undefined) input.max = p.max;
      li.appendChild(input);
      li.appendChild(document.createTextNode(" [" + p.name + " " + p.label + " max " + p.max + "]"));
    }
    $("links").appendChild(li);
  }
  const contribute = action.links.actions.find((l) => l.label === "Contribute");
  const post = (amount) => fetch(contribute.href.replace("{amount}", amount), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ account: wallet }),
  });
  const refused = await post("abc");
  $("refused").textContent = "refused " + refused.status + ": " + (await refused.json()).message;
  const ok = await post("12.5");
  const tx = await ok.json();
  $("transaction").textContent = "transaction " + ok.status + " (" + atob(tx.transaction).length + " bytes): " + tx.message;

  try {
    await fetch(control);
    $("control").textContent = "control: NOT blocked";
  } catch (e) {
    $("control").textContent = "control: blocked by CORS";
  }
  $("icon").dataset.state = await iconLoaded;
  $("status").textContent = "done; " + $("icon").dataset.state;
}
main().catch((e) => { $("status").textContent = "failed: " + e; });
</script>
</body></html>
`))

func TestBrowserListsActionsAcrossOrigins(t *testing.T) {
	bin := chromium(t)
	h := newHarness(t, nil)
	id, _ := h.launch(treasury.DefaultTerms(h.now(), time.Hour))
	alice := h.wallet(100 * native)

	// A server without CORS headers: the browser must refuse to let the page read it.
	noCORS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"title":"not readable cross-origin"}`)
	}))
	defer noCORS.Close()

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := page.Execute(w, map[string]any{"API": h.base, "Model": id, "Wallet": alice.PublicKey().String(), "Control": noCORS.URL})
		if err != nil {
			t.Errorf("render page: %v", err)
		}
	}))
	defer site.Close()
	// The page's origin is localhost:<port>, the API's 127.0.0.1:<other port>.
	pageURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)
	if strings.HasPrefix(h.base, pageURL) {
		t.Fatal("page and API share an origin")
	}

	dom := runChromium(t, bin, pageURL, "--dump-dom")
	text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(dom, "\n")
	for _, want := range []string{
		`Tiny Llama Commons (TLC)`,
		`is raising funds`,
		`version 2.4, chain solana:`,
		`rules: /models/** -&gt; /api/actions/models/**`,
		`Contribute`,
		`[amount Amount (native tokens) max 60000]`,
		`refused 400: The amount "abc" is not a number`,
		`transaction 200 (`,
		`you buy 6.25 TLC`,
		`control: blocked by CORS`,
		`done; icon loaded 512px`,
	} {
		if !strings.Contains(dom, want) && !strings.Contains(text, want) {
			t.Errorf("the page does not show %q; DOM:\n%s", want, dom)
		}
	}
	if t.Failed() {
		return
	}
	// A screenshot as a person would see it (kept in $ACTIONS_SCREENSHOT_DIR when set).
	dir := os.Getenv("ACTIONS_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "actions.png")
	runChromium(t, bin, pageURL, "--screenshot="+shot, "--window-size=1000,900")
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}
	t.Logf("screenshot: %s", shot)
}

// runChromium loads url headless with a fresh profile, lets the page's
// requests finish (virtual time does not advance while requests are
// pending) and returns stdout.
func runChromium(t *testing.T, bin, url string, mode ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=30000",
	}, mode...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish within 2 minutes; stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("chromium: %v; stderr:\n%s", err, stderr.String())
	}
	return string(out)
}

package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// findBrowser returns a Chromium (or Chrome) binary, or "" when there is
// none. .ci/run installs Debian's chromium at /usr/bin/chromium.
func findBrowser() string {
	if p := os.Getenv("LB_TEST_BROWSER"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestStatusPageInBrowser drives the admin status page in headless
// Chromium against a running LB: a backend shows healthy, its drain
// button (with the admin token asked for by the page's prompt) takes it
// out, and the row shows it draining or drained. With
// LB_STATUS_SCREENSHOT=path it also saves a screenshot of the page with
// the drained backend (how docs/status-page.png is made).
func TestStatusPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	browser := findBrowser()
	if browser == "" {
		t.Skip("no Chromium found (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome): " +
			"install Debian's chromium (.ci/run does) to run the status page browser test")
	}
	const token = "s3cret-admin-token"
	web1, web2 := startBackend(t, "web1"), startBackend(t, "web2")
	cfg := mustParse(t, fmt.Sprintf(`
admin {
  address = "127.0.0.1:0"
  token   = %q
}
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  deregistration_delay = "1s"
  health_check {
    interval = "100ms"
    timeout  = "50ms"
  }
  backend %q {}
  backend %q {}
}
`, token, web1.Addr(), web2.Addr()))
	lb := startLB(t, cfg, Options{Version: "browser-test"})
	pageURL := "http://" + lb.AdminAddr().String() + "/"

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 720),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// Start the browser with a context that has no deadline of its own
	// (its deadline would stop the whole browser), then answer the page's
	// token prompt the way an operator would.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", browser, err)
	}
	prompts := make(chan string, 4)
	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	dialogsDone := make(chan struct{})
	go func() {
		defer close(dialogsDone)
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			select {
			case prompts <- ev.Message:
			default:
			}
			chromedp.Call(bctx, page.HandleJavaScriptDialog,
				page.HandleJavaScriptDialogParams{Accept: true, PromptText: token})
		}
	}()
	defer func() { cancelBrowser(); <-dialogsDone }()

	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s in %s: %v", pageURL, browser, err)
	}
	// eval runs one script with its own deadline, so a stuck browser fails
	// the test instead of hanging it.
	eval := func(script string) (string, error) {
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		return chromedp.Run(ctx, chromedp.Evaluate[string](script))
	}
	target := web2.Addr()
	rowState := fmt.Sprintf(`(() => { const r = [...document.querySelectorAll("tr[data-backend]")]
		.find(r => r.dataset.backend === %q); return r ? r.dataset.state : ""; })()`, target)
	waitState := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var last string
		for {
			var err error
			if last, err = eval(rowState); err != nil {
				t.Fatalf("read the row of %s: %v", target, err)
			}
			for _, w := range want {
				if last == w {
					return
				}
			}
			if time.Now().After(deadline) {
				text, _ := eval(`document.body.innerText`)
				t.Fatalf("%s: row of %s shows %q, want one of %q; page:\n%s", what, target, last, want, text)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitState("before drain", "healthy")

	click := fmt.Sprintf(`(() => { const r = [...document.querySelectorAll("tr[data-backend]")]
		.find(r => r.dataset.backend === %q);
		const b = r && r.querySelector('button[data-action="drain"]');
		if (!b) return "no button"; b.click(); return "clicked"; })()`, target)
	if clicked, err := eval(click); err != nil || clicked != "clicked" {
		t.Fatalf("click drain of %s: clicked=%v err=%v", target, clicked, err)
	}
	waitState("after drain", "draining", "drained")
	select {
	case <-prompts:
	default:
		t.Error("the page drained without asking for the admin token")
	}
	if held := statusOf(t, lb, target).HeldBy; held != "admin_drain" {
		t.Errorf("backend %s after the click is held by %q, want admin_drain", target, held)
	}

	if out := os.Getenv("LB_STATUS_SCREENSHOT"); out != "" {
		waitState("screenshot", "drained")
		time.Sleep(2500 * time.Millisecond) // one more refresh, so the events show the drain complete
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, len(png))
	}
}

// Package browsertest drives headless Chromium for the dashboard's tests (chromedp): start a browser
// with a fresh profile and no network of its own, run steps with a timeout, read a text, and save
// screenshots at the desktop (1280×800) and phone (390×844) sizes. Test-only: nothing in the binary
// imports it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the browser to drive: $BRIEFD_CHROMIUM, else Debian's /usr/bin/chromium. Without
// one the test is skipped, except under CI, where it fails.
func Chromium(t testing.TB) string {
	t.Helper()
	p := os.Getenv("BRIEFD_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but there is no browser at %s (apt-get install chromium fonts-noto-cjk): %v", p, err)
		}
		t.Skipf("browser tests skipped: no chromium at %s (apt-get install chromium; or set BRIEFD_CHROMIUM)", p)
	}
	return p
}

// ScreenshotDir is where the screenshots go: $BRIEFD_SCREENSHOTS (kept), else a folder of the test.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BRIEFD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
		t.Logf("screenshots in %s (removed after the test; set BRIEFD_SCREENSHOTS=DIR to keep them)", dir)
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(dir)
		t.Logf("screenshots in %s", abs)
	}
	return dir
}

// New starts headless Chromium with a fresh profile, no network of its own and no sandbox (tests run in
// containers, often as root), at 1280×800; it is stopped when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	exe := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser; no timeout on this first call
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// Do runs steps, failing the test (named by what) after 30 seconds or on an error.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Text is the text of the first element sel selects, trimmed.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Viewports are the sizes Shoot saves: a desktop and a phone.
var Viewports = []struct {
	Name          string
	Width, Height int64
	Mobile        bool
}{{"1280x800", 1280, 800, false}, {"390x844", 390, 844, true}}

// Shoot saves the viewport and the whole page of the current page at both sizes, as
// DIR/NAME-1280x800.png, NAME-1280x800-full.png, NAME-390x844.png and NAME-390x844-full.png, then goes
// back to the desktop size.
func Shoot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	for _, v := range Viewports {
		var opts []chromedp.EmulateViewportOption
		if v.Mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch)
		}
		Do(t, ctx, "viewport "+v.Name, chromedp.EmulateViewport(v.Width, v.Height, opts...), chromedp.Sleep(150*time.Millisecond))
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		shot, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, v.Name)), shot, 0o644)
		}
		if err == nil {
			shot, err = chromedp.Run(tctx, chromedp.FullScreenshot(100))
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s-full.png", name, v.Name)), shot, 0o644)
		}
		cancel()
		if err != nil {
			t.Fatalf("screenshot %s %s: %v", name, v.Name, err)
		}
	}
	Do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 800))
}

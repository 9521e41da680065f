package booklet

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Chromium (BRIEFD_CHROMIUM overrides), skipping the test without it unless CI is set.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BRIEFD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found (install chromium); it is required when CI is set")
	}
	t.Skip("chromium not found: install chromium to check the booklet in its PDF viewer")
	return ""
}

// shootPDF opens a PDF in headless Chromium's PDF viewer and returns a screenshot once the rendering has
// settled (two identical shots in a row that are not one flat colour).
func shootPDF(t *testing.T, path string) image.Image {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(900, 1200))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+abs)); err != nil {
		t.Fatalf("open %s in chromium: %v", path, err)
	}
	var last []byte
	for {
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot of %s: %v", path, err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(shot, last) && !flat(img) {
			if dir := os.Getenv("BRIEFD_SCREENSHOTS"); dir != "" {
				os.WriteFile(filepath.Join(dir, filepath.Base(path)+".png"), shot, 0o644)
			}
			return img
		}
		last = shot
		time.Sleep(500 * time.Millisecond)
	}
}

// flat reports whether an image is a single colour.
func flat(img image.Image) bool {
	b := img.Bounds()
	c0 := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, _ := c0.RGBA()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bl != b0 {
				return false
			}
		}
	}
	return true
}

// TestChromiumShowsChinese opens two covers that differ only in the office's name in Chromium's PDF
// viewer (PDFium). If the font failed, both names would come out blank or as the same missing-glyph boxes
// and the screenshots would be equal.
func TestChromiumShowsChinese(t *testing.T) {
	chromiumPath(t) // skip at once without it
	dir := t.TempDir()
	shots := make([]image.Image, 2)
	for i, office := range []string{"忻州市教育局办公室", "太原市教育局办公室"} {
		c := testCover
		c.Office = office
		p := filepath.Join(dir, []string{"a.pdf", "b.pdf"}[i])
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := WritePDF(context.Background(), f, c, nil, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		shots[i] = shootPDF(t, p)
	}
	if equalImages(shots[0], shots[1]) {
		t.Error("the covers of 忻州 and 太原 look the same in Chromium: its PDF viewer did not draw the Chinese text")
	}
}

func equalImages(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

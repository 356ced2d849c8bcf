// Package chromiumtest starts headless Chromium for playkey's browser tests (the console's,
// the gate's player test) with one set of flags: the ones a machine with no network beyond
// its package registries needs, where Chromium's background connections are refused.
package chromiumtest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/internal/testenv"
)

// Path finds the browser (the Debian package chromium). Without one the test skips, unless
// the environment variable CI is set, where it fails.
func Path(t testing.TB) string {
	t.Helper()
	return testenv.Need(t, "chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
}

// Start launches the browser at execPath, headless, with a fresh profile, and returns a
// chromedp context for it; it stops when the test ends. extra adds allocator options (a
// window size, a flag); ctxOpts are passed to chromedp.NewContext.
func Start(t testing.TB, execPath string, extra []chromedp.ExecAllocatorOption, ctxOpts ...chromedp.ContextOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, append([]chromedp.ContextOption{chromedp.WithErrorf(t.Logf)}, ctxOpts...)...)
	t.Cleanup(cancel)
	// The first call starts the browser; it must have no timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/progtest"
	"github.com/podpaths/podpaths/platform/report"
)

// buildServices builds the three real binaries, as `make run` uses them.
func buildServices(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for _, svc := range []string{"backend", "sidecar", "frontend"} {
		cmd := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(bin, svc), ".")
		cmd.Dir = filepath.Join("..", "..", "services", svc)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", svc, err, out)
		}
	}
	return bin
}

// traversableTempDir is a test directory that every user may enter: run as
// root, nginx's workers run as nobody, and they must see the drain file.
func traversableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if code := progtest.GetJSON(t, url, v); code != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200", url, code)
	}
}

func headlessPods(rep report.Report) []string {
	var pods []string
	for _, p := range rep.Paths {
		if strings.HasPrefix(p.ID, "frontend-backend-headless-") {
			pods = append(pods, strings.TrimPrefix(p.ID, "frontend-backend-headless-"))
		}
	}
	return pods
}

// TestLocalRun starts all three real programs wired as pods, on loopback
// addresses of its own so that it never meets a `make run` in progress.
func TestLocalRun(t *testing.T) {
	opts := Options{
		BinDir: buildServices(t), LogDir: traversableTempDir(t),
		Frontend: "127.0.111.1:3000", FrontendAdmin: "127.0.111.1:3090",
		PodNet: "127.0.110", ServiceIP: "127.0.109.1", Backends: 3, Namespace: "podpaths",
		NginxTemplate: filepath.Join("..", "..", "nginx", "default.conf.template"),
	}
	lab, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	app := "http://" + opts.Frontend

	// With nginx on this machine (CI installs Debian's) its two paths run
	// too; without, they are skipped as unconfigured.
	wantOK, wantSkipped := 11, 0
	if findNginx("") == "" {
		wantOK, wantSkipped = 9, 2
	}
	var rep report.Report
	getJSON(t, app+"/api/paths", &rep)
	if rep.Summary.Failed != 0 || rep.Summary.OK != wantOK || rep.Summary.Skipped != wantSkipped {
		t.Fatalf("every cluster-free path: summary %+v, want %d ok, %d skipped, none failed; paths %+v",
			rep.Summary, wantOK, wantSkipped, rep.Paths)
	}
	if pods := headlessPods(rep); len(pods) != 3 {
		t.Errorf("headless paths to %v, want backend-0, -1 and -2", pods)
	}

	t.Run("spread", func(t *testing.T) {
		var fresh, kept report.Spread
		getJSON(t, app+"/api/spread?n=60&keepalive=false", &fresh)
		getJSON(t, app+"/api/spread?n=20&keepalive=true", &kept)
		// Each new connection picks a pod at random: the chance that 60
		// miss one of 3 pods is about 1e-10.
		if len(fresh.Pods) != 3 {
			t.Errorf("60 calls without keep-alive reached %v, want all 3 pods", fresh.Pods)
		}
		if len(kept.Pods) != 1 {
			t.Errorf("20 calls over one kept-alive connection reached %v, want exactly 1 pod", kept.Pods)
		}
	})

	t.Run("nginx closes keep-alive connections while draining", func(t *testing.T) {
		if lab.nginx == "" {
			t.Skip("no nginx on this machine")
		}
		p := &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 5 * time.Second, KeepAlive: true, MaxConns: 1})}
		reused := func() bool {
			t.Helper()
			res := p.Get(t.Context(), lab.nginx, "/whoami", "")
			if res.Err != nil {
				t.Fatalf("GET /whoami through nginx: %v", res.Err)
			}
			return res.Reused
		}
		if reused(); !reused() {
			t.Fatalf("nginx closed a keep-alive connection while serving, want it kept")
		}
		if err := os.WriteFile(lab.DrainFile(), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(lab.DrainFile()) }) //nolint:errcheck // gone with the test's directory
		// The kept connection carries one more request, whose answer says
		// "Connection: close"; the client then opens a new one.
		if first, second := reused(), reused(); !first || second {
			t.Errorf("draining: reused %v then %v, want the kept connection once, then a new one", first, second)
		}
	})

	t.Run("nginx limits spreads per client", func(t *testing.T) {
		if lab.nginx == "" {
			t.Skip("no nginx on this machine")
		}
		p := &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 5 * time.Second, KeepAlive: true})}
		codes := map[int]int{}
		for range 30 {
			res := p.Get(t.Context(), lab.nginx, "/api/spread?n=1", "")
			codes[res.Status]++
			if res.Status == http.StatusTooManyRequests && res.RetryAfter != time.Second {
				t.Errorf("a 429 from nginx asks to wait %v, want Retry-After: 1", res.RetryAfter)
			}
		}
		// The zone lets a burst of 10 through at once, then 2 a second.
		if codes[http.StatusOK] < 10 || codes[http.StatusTooManyRequests] == 0 || codes[http.StatusOK]+codes[http.StatusTooManyRequests] != 30 {
			t.Errorf("30 spreads at once through nginx got %v, want at least 10 answered and the rest 429", codes)
		}
		// A client that waits as it is told gets its answer.
		res := probe.RetryBusy(t.Context(), func(ctx context.Context) probe.Result { return p.Get(ctx, lab.nginx, "/api/spread?n=1", "") })
		if res.Status != http.StatusOK {
			t.Errorf("a spread retried after Retry-After = %d, want 200", res.Status)
		}
		for range 30 {
			if code, _, _ := progtest.Get(t, "http://"+lab.nginx+"/whoami"); code != http.StatusOK {
				t.Fatalf("GET /whoami through nginx = %d, want 200: it is not limited", code)
			}
		}
	})

	t.Run("backend disappears", func(t *testing.T) {
		if err := lab.Kill("backend-1"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			getJSON(t, app+"/api/paths", &rep)
			pods := headlessPods(rep)
			if rep.Summary.Failed == 0 && len(pods) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("15s after backend-1 died: headless pods %v, summary %+v, want 2 pods and no failures", pods, rep.Summary)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("no endpoints left", func(t *testing.T) {
		for _, pod := range []string{"backend-0", "backend-2"} {
			if err := lab.Kill(pod); err != nil {
				t.Fatal(err)
			}
		}
		// As on a cluster, a Service without endpoints refuses connections
		// rather than letting them time out.
		deadline := time.Now().Add(15 * time.Second)
		for {
			getJSON(t, app+"/api/paths", &rep)
			kinds := map[string]report.ErrorKind{}
			for _, p := range rep.Paths {
				kinds[p.ID] = p.ErrorKind
			}
			dns, env := kinds[report.FrontendBackendID(report.MethodDNS)], kinds[report.FrontendBackendID(report.MethodEnv)]
			if dns == report.ErrorRefused && env == report.ErrorRefused {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("15s after the last backend died: dns %q, env %q, want refused for both", dns, env)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

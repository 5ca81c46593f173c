package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		BinDir: buildServices(t), LogDir: t.TempDir(),
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
		var fresh, kept struct {
			Pods []struct{ Pod string } `json:"pods"`
		}
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
			if kinds["frontend-backend-dns"] == report.ErrorRefused && kinds["frontend-backend-env"] == report.ErrorRefused {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("15s after the last backend died: dns %q, env %q, want refused for both", kinds["frontend-backend-dns"], kinds["frontend-backend-env"])
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

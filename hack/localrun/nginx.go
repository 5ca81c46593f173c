package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podpaths/podpaths/platform/discovery"
)

// nginxPort is nginx's port in the frontend's pod.
const nginxPort = "8080"

// findNginx returns the nginx binary to run in front of the frontend, or ""
// when there is none or explicit is "none": then the two nginx paths report
// unconfigured.
func findNginx(explicit string) string {
	if explicit == "none" {
		return ""
	}
	if explicit != "" {
		return explicit
	}
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// nginxAddr is where nginx listens: the frontend "pod's" address, as nginx
// and the frontend share a pod's network namespace.
func (l *Lab) nginxAddr() string {
	host, _, err := net.SplitHostPort(l.opts.Frontend)
	if err != nil {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, nginxPort)
}

// DrainFile is the file whose existence tells nginx that the "pod" drains:
// every answer then says "Connection: close", as in a terminating pod.
func (l *Lab) DrainFile() string {
	return filepath.Join(l.nginxDir, "draining")
}

// writeNginxConfig renders the project's nginx template (nginx/) the way the
// image's entrypoint would, with this machine's DNS server as the resolver,
// and a main config that keeps every file under dir.
func (l *Lab) writeNginxConfig(dir string) (string, error) {
	tmpl, err := os.ReadFile(l.opts.NginxTemplate)
	if err != nil {
		return "", fmt.Errorf("nginx template: %w", err)
	}
	server, err := render(string(tmpl), []replacement{
		{"${NGINX_LOCAL_RESOLVERS}", l.dns.Addr()},
		{"${PODPATHS_BACKEND_HOST}", discovery.ServiceName("backend", l.opts.Namespace, domain)},
		{"${PODPATHS_BACKEND_PORT}", strconv.Itoa(backendPort)},
		{"${PODPATHS_DRAIN_FILE}", l.DrainFile()},
		// In a pod nginx binds the pod's address; here, the frontend's.
		{"listen " + nginxPort + ";", "listen " + l.nginxAddr() + ";"},
		{"proxy_pass http://127.0.0.1:3000;", "proxy_pass http://" + l.opts.Frontend + ";"},
	})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", err
	}
	main := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/client;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/default.conf;
}
`, dir)
	conf := filepath.Join(dir, "nginx.conf")
	return conf, errors.Join(
		os.WriteFile(filepath.Join(dir, "default.conf"), []byte(server), 0o644),
		os.WriteFile(conf, []byte(main), 0o644))
}

type replacement struct{ old, new string }

// render applies each replacement and fails if one finds nothing, so a
// change to the template cannot silently break `make run`.
func render(s string, rs []replacement) (string, error) {
	for _, r := range rs {
		if !strings.Contains(s, r.old) {
			return "", fmt.Errorf("nginx template: %q not found", r.old)
		}
		s = strings.ReplaceAll(s, r.old, r.new)
	}
	return s, nil
}

// nginxLine tells the user where nginx is, or why it is not there.
func (l *Lab) nginxLine() string {
	switch {
	case l.nginx == "" && l.opts.Nginx == "none":
		return "  nginx:       off (-nginx none), so its two paths are skipped"
	case l.nginx == "":
		return "  nginx:       not found on this machine, so its two paths are skipped (apt-get install nginx-light)"
	}
	return "  via nginx:   http://" + l.nginx + "/ (as the browser reaches the frontend in its pod)"
}

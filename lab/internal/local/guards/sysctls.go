package guards

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// restoredSysctls are changed by the guards and the cluster's components,
// and put back by `down`: the guards turn on forwarding and iptables for
// bridged traffic (Plan.sysctls), and kube-proxy sets route_localnet so
// that NodePorts answer on 127.0.0.1, which also lets the kernel route
// packets for 127.0.0.0/8 that arrive from outside; kube-proxy's own rule
// drops those while it runs, but not after. A Docker engine started before
// `up` had set the first two already, so they stay on for it.
var restoredSysctls = []string{
	"net/ipv4/ip_forward",
	"net/bridge/bridge-nf-call-iptables",
	"net/ipv4/conf/all/route_localnet",
}

// RecordSysctls saves the values of restoredSysctls to file, unless an
// earlier `up` did: the first value is the machine's own. It runs before the
// guards go up. A sysctl that does not exist yet (bridge-nf-call-iptables
// before br_netfilter is loaded) is not recorded, and so not restored.
func RecordSysctls(h host.Host, file string) error {
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	saved := map[string]string{}
	for _, k := range restoredSysctls {
		v, err := h.ReadSysctl(k)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		saved[k] = v
	}
	b, err := json.Marshal(saved)
	if err != nil {
		return err
	}
	return host.WriteFile(file, b, 0o644)
}

// RestoreSysctls writes back what RecordSysctls saved.
func RestoreSysctls(h host.Host, file string) error {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var saved map[string]string
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	for _, k := range restoredSysctls {
		if v, ok := saved[k]; ok {
			errs = append(errs, h.WriteSysctl(k, v))
		}
	}
	return errors.Join(errs...)
}

package kind

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/lab/rollout"
)

// dnsRestartWait bounds the wait for CoreDNS's pods after its restart.
const dnsRestartWait = 2 * time.Minute

// keepDNSInside makes the cluster's CoreDNS answer cluster names only, as the
// local cluster's does. kubeadm's Corefile forwards every other name to the
// node's resolver, which on kind is Docker's DNS, which asks this machine's
// resolvers: a pod's lookup through its search path (backend.<the host's
// domain>) would leave the machine. The lab needs no name outside the
// cluster. CoreDNS is restarted so that no pod waits for its reload plugin.
func (p *Provider) keepDNSInside(ctx context.Context, client kubernetes.Interface) error {
	changed, err := dropForward(ctx, client)
	if err != nil || !changed {
		return err
	}
	p.log.Info("CoreDNS answers cluster names only now: forward removed from its Corefile")
	if err := rollout.Restart(ctx, client, metav1.NamespaceSystem, "deployment", "coredns"); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, dnsRestartWait)
	defer cancel()
	return rollout.Wait(waitCtx, client, metav1.NamespaceSystem, false, time.Second, io.Discard)
}

// dropForward removes forward from the coredns ConfigMap's Corefile and
// reports whether it changed anything.
func dropForward(ctx context.Context, client kubernetes.Interface) (bool, error) {
	cms := client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
	cm, err := cms.Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("CoreDNS config: %w", err)
	}
	corefile, changed := withoutForward(cm.Data["Corefile"])
	if !changed {
		return false, nil
	}
	cm.Data["Corefile"] = corefile
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("CoreDNS config: %w", err)
	}
	return true, nil
}

// withoutForward removes the forward plugin, block and all, from a
// Corefile, and loop, which only catches a forward that reaches CoreDNS
// itself. It reports whether it removed anything.
func withoutForward(corefile string) (string, bool) {
	var kept []string
	depth := 0 // inside forward's block while > 0
	for line := range strings.Lines(corefile) {
		t := strings.TrimSpace(line)
		switch {
		case depth > 0:
			depth += strings.Count(t, "{") - strings.Count(t, "}")
		case t == "loop":
		case t == "forward" || strings.HasPrefix(t, "forward "):
			depth = strings.Count(t, "{") - strings.Count(t, "}")
		default:
			kept = append(kept, line)
		}
	}
	out := strings.Join(kept, "")
	return out, out != corefile
}

package exercises

import (
	"context"
	"errors"
	"fmt"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

func clusterIPFromOutside() workshop.Exercise {
	unroute := actions.RouteServicesFromOutside{Remove: true}
	return workshop.Exercise{
		Slug:  "clusterip-outside",
		Title: "A ClusterIP from outside the cluster",
		Goal:  "see what keeps a ClusterIP inside the cluster: routing, not the address.",
		Only:  "local",
		Predict: []string{
			"The outside client (a laptop on the nodes' network) calls `backend`'s ClusterIP, `10.96.0.80:8080`. What does it get?",
			"It gets a route to the Service range through node A. Does the ClusterIP answer now? Which pod answers, and which client address does it see?",
		},
		Steps: []workshop.Step{
			{
				Name: "call the ClusterIP from the outside client",
				Do: []workshop.Action{actions.Look{Cmd: `sudo nsenter --net=/var/lib/podpaths/local/outside.netns ip route` + "\n" +
					`make check | grep 'outside -> backend'`}},
				Expect: []workshop.Expectation{
					workshop.Path{ID: report.IDOutsideClusterIP, Is: workshop.BlockedWith(report.ErrorOther),
						Why: "`connect: network is unreachable`: the outside client has routes to the node IPs and the LoadBalancer range, none to 10.96.0.0/16"},
					workshop.CheckPasses(true),
				},
			},
			{
				Name: "give the outside client a route to the Service range",
				Do:   []workshop.Action{actions.RouteServicesFromOutside{}},
				Expect: []workshop.Expectation{
					workshop.Path{ID: report.IDOutsideClusterIP, Is: workshop.Answers,
						Why: "node A's kube-proxy rewrites the packet to a backend pod, as it does for any packet to a ClusterIP that enters the node"},
					workshop.Observed{Says: "the backend saw a client address of node A's, not the outside client's: kube-proxy masquerades a call to a ClusterIP that comes from outside the pod range",
						Paths: []string{report.IDOutsideClusterIP}, Holds: masqueraded},
					workshop.CheckPasses(false),
				},
			},
			{
				Name: "take the route away",
				Do:   []workshop.Action{unroute},
				Expect: []workshop.Expectation{
					workshop.Path{ID: report.IDOutsideClusterIP, Is: workshop.BlockedWith(report.ErrorOther)},
					workshop.CheckPasses(true),
				},
			},
		},
		Undo: []workshop.Action{unroute},
		Explain: `Nothing in a ClusterIP says "inside only". kube-proxy writes its rules into every node's
PREROUTING and OUTPUT paths, so a packet to a ClusterIP is rewritten to a ready pod wherever it enters a node:
from a pod, from the node itself, or from a machine next to it. A packet from outside the pod range is also
masqueraded (kube-proxy's ` + "`clusterCIDR`" + ` rule), so the pod that answers sees node A's address, and its answer
goes back through node A. What keeps the address inside is that nothing
outside has a route to the Service range: the nodes' network does not know 10.96.0.0/16, and a laptop's default
route leads to a router that drops it or to the internet. Some network plugins advertise the Service range over
BGP on purpose (Calico, Cilium), and then a ClusterIP does answer outside the cluster. The ways in that are meant
for outside clients are the NodePort, the LoadBalancer, and a gateway in front of them. See
https://kubernetes.io/docs/concepts/services-networking/service/#type-clusterip and
https://docs.tigera.io/calico/latest/networking/configuring/advertise-service-ips.`,
		Notes: []string{"On this machine the lab's guards drop packets for the Service range that arrive on any interface but the " +
			"lab's own ([security.md](security.md)), so a real neighbour on the LAN cannot do what the outside client does here. " +
			"On kind the only client outside the nodes is this machine, whose own routes the exercise would have to change: " +
			"it runs on the local cluster only."},
	}
}

// masqueraded expects the backend that answered the outside client to have
// seen another client address than the outside client's own.
func masqueraded(_ context.Context, env *workshop.Env, s *workshop.State) error {
	if env.Outside == nil {
		return errors.New("this lab has no outside client")
	}
	ip, err := env.Outside.OutsideIP()
	if err != nil {
		return err
	}
	for _, c := range s.Paths(report.IDOutsideClusterIP) {
		if c.ClientIPSeen == "" || c.ClientIPSeen == ip {
			return fmt.Errorf("the backend saw client %q, the outside client is %s", c.ClientIPSeen, ip)
		}
	}
	return nil
}

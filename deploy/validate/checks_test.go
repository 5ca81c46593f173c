package validate_test

import (
	"strings"
	"testing"

	"github.com/podpaths/podpaths/deploy/validate"
)

// TestFixturePasses proves the fixture is clean, so each negative case fails for the one thing it breaks.
func TestFixturePasses(t *testing.T) {
	t.Parallel()
	set, err := validate.Decode([]byte(fixture))
	if err != nil {
		t.Fatalf("Decode(fixture): %v", err)
	}
	for _, c := range validate.Checks() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			if errs := c.Run(set); len(errs) != 0 {
				t.Errorf("%s(fixture): got %v, want no errors", c.Name, errs)
			}
		})
	}
}

// TestChecksCatchBrokenManifests feeds each check a fixture with one deliberate mistake and expects that check to
// report it.
func TestChecksCatchBrokenManifests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check validate.Check
		old   string
		new   string
		want  string
	}{
		// ServiceSelectors
		{"service selects nothing", validate.ServiceSelectors,
			"  selector: {app.kubernetes.io/name: web}\n", "  selector: {app.kubernetes.io/name: wbe}\n",
			"Service lab/web: selector app.kubernetes.io/name=wbe matches no"},
		{"service without selector", validate.ServiceSelectors,
			"  selector: {app.kubernetes.io/name: db}\n", "",
			"Service lab/db: no selector"},
		{"alias outside the cluster", validate.ServiceSelectors,
			"externalName: db.lab.svc.cluster.local", "externalName: db.example.com",
			`Service lab/db-alias: externalName "db.example.com" is not a Service's name in the cluster`},
		{"alias to a missing Service", validate.ServiceSelectors,
			"externalName: db.lab.svc.cluster.local", "externalName: dbx.lab.svc.cluster.local",
			`Service lab/db-alias: externalName "dbx.lab.svc.cluster.local" names no Service of these manifests`},
		{"workload selector misses its pods", validate.ServiceSelectors,
			"  selector: {matchLabels: {app.kubernetes.io/name: web}}\n", "  selector: {matchLabels: {app.kubernetes.io/name: web, tier: x}}\n",
			"Deployment lab/web: selector app.kubernetes.io/name=web,tier=x does not match its pod template"},

		// TargetPorts
		{"numeric targetPort", validate.TargetPorts,
			"targetPort: http, nodePort: 30080", "targetPort: 8080, nodePort: 30080",
			`Service lab/web-nodeport: port "http" has targetPort "8080", want a container port name`},
		{"missing targetPort", validate.TargetPorts,
			"{name: http, port: 80, targetPort: http}", "{name: http, port: 80}",
			`Service lab/web: port "http" has targetPort "0", want a container port name`},
		{"targetPort names no container port", validate.TargetPorts,
			"  ports: [{name: sql, port: 5432, targetPort: sql}]\n", "  ports: [{name: sql, port: 5432, targetPort: postgres}]\n",
			`Service lab/db: port "sql" targets "postgres", which StatefulSet lab/db does not declare`},
		{"targetPort protocol mismatch", validate.TargetPorts,
			"{name: sql, port: 5432, targetPort: sql}", "{name: sql, port: 5432, targetPort: sql, protocol: UDP}",
			`port "sql" is UDP but StatefulSet lab/db declares "sql" as TCP`},

		// NodePorts
		{"nodePort below range", validate.NodePorts,
			"nodePort: 30080", "nodePort: 8080",
			`Service lab/web-nodeport: port "http" nodePort 8080, want 30000-32767`},
		{"nodePort above range", validate.NodePorts,
			"nodePort: 30080", "nodePort: 32768",
			"nodePort 32768, want 30000-32767"},
		{"nodePort on a ClusterIP Service", validate.NodePorts,
			"{name: http, port: 80, targetPort: http}", "{name: http, port: 80, targetPort: http, nodePort: 30081}",
			`Service lab/web: port "http" sets nodePort 30081 on a "ClusterIP" Service`},

		// Headless
		{"governing Service not headless", validate.Headless,
			"  clusterIP: None\n", "  clusterIP: 10.96.0.50\n",
			`Service lab/db-headless: serviceName of StatefulSet lab/db but clusterIP is "10.96.0.50", want "None"`},
		{"serviceName names no Service", validate.Headless,
			"serviceName: db-headless", "serviceName: db-peers",
			`StatefulSet lab/db: serviceName "db-peers" names no Service`},
		{"headless Service governs nothing", validate.Headless,
			"serviceName: db-headless", "serviceName: db",
			"Service lab/db-headless: headless, but no StatefulSet has it as serviceName"},
		{"headless publishes unready pods", validate.Headless,
			"publishNotReadyAddresses: false", "publishNotReadyAddresses: true",
			"publishNotReadyAddresses true"},
		{"headless port without a name", validate.Headless,
			"    - name: sql\n      port: 5432\n", "    - port: 5432\n",
			"port 5432 has no name, so it has no SRV record"},

		// PolicySelectors
		{"PodDisruptionBudget selects nothing", validate.PolicySelectors,
			"      app.kubernetes.io/name: db\n---\napiVersion: networking.k8s.io/v1", "      app.kubernetes.io/name: dbb\n---\napiVersion: networking.k8s.io/v1",
			"PodDisruptionBudget lab/db: selector app.kubernetes.io/name=dbb matches no"},
		{"NetworkPolicy podSelector selects nothing", validate.PolicySelectors,
			"  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: db\n", "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: d\n",
			"NetworkPolicy lab/db: podSelector: selector app.kubernetes.io/name=d matches no"},
		{"NetworkPolicy peer selects nothing", validate.PolicySelectors,
			"              app.kubernetes.io/name: web\n", "              app.kubernetes.io/name: frontend\n",
			"NetworkPolicy lab/db: ingress[0]: peer[0] podSelector: selector app.kubernetes.io/name=frontend matches no"},
		{"NetworkPolicy named port missing", validate.PolicySelectors,
			"[{port: sql, protocol: TCP}]", "[{port: postgres, protocol: TCP}]",
			`NetworkPolicy lab/db: ingress[0]: port "postgres" is not declared by StatefulSet lab/db`},

		// PodSecurity
		{"runAsNonRoot missing", validate.PodSecurity,
			"{runAsNonRoot: true, runAsUser: 65532,", "{runAsUser: 65532,",
			`Deployment lab/web: container "web": runAsNonRoot is not true`},
		{"runs as root", validate.PodSecurity,
			"runAsUser: 65532", "runAsUser: 0",
			`container "web": runAsUser is unset or 0`},
		{"writable root filesystem on a native sidecar", validate.PodSecurity,
			"runAsUser: 65533, readOnlyRootFilesystem: true", "runAsUser: 65533, readOnlyRootFilesystem: false",
			`StatefulSet lab/db: init container "helper": readOnlyRootFilesystem is not true`},
		{"privilege escalation allowed", validate.PodSecurity,
			"runAsUser: 101, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false", "runAsUser: 101, readOnlyRootFilesystem: true, allowPrivilegeEscalation: true",
			`container "proxy": allowPrivilegeEscalation is not false`},
		{"capabilities not dropped", validate.PodSecurity,
			"runAsUser: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}", "runAsUser: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [NET_RAW]}",
			`container "db": capabilities do not drop "ALL"`},
		{"capability added", validate.PodSecurity,
			"runAsUser: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}", "runAsUser: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_ADMIN]}",
			`container "db": capabilities add [NET_ADMIN]`},
		{"seccomp unconfined", validate.PodSecurity,
			"runAsUser: 101, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}", "runAsUser: 101, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: Unconfined}",
			`container "proxy": seccompProfile is not RuntimeDefault or Localhost`},
		{"privileged", validate.PodSecurity,
			"{runAsNonRoot: true, runAsUser: 65534,", "{privileged: true, runAsNonRoot: true, runAsUser: 65534,",
			`container "db": privileged`},
		{"no securityContext", validate.PodSecurity,
			"          securityContext: {runAsNonRoot: true, runAsUser: 65533, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: Localhost, localhostProfile: helper.json}}\n", "",
			`init container "helper": no securityContext`},
		{"hostPort", validate.PodSecurity,
			"[{name: admin, containerPort: 9090}]", "[{name: admin, containerPort: 9090, hostPort: 9090}]",
			`port "admin" uses hostPort 9090`},
		{"hostNetwork", validate.PodSecurity,
			"      terminationGracePeriodSeconds: 30\n", "      terminationGracePeriodSeconds: 30\n      hostNetwork: true\n",
			"Deployment lab/web: shares a host namespace"},
		{"hostPath volume", validate.PodSecurity,
			"{name: conf, configMap: {name: web-conf, items: [{key: default.conf, path: default.conf}]}}", "{name: conf, hostPath: {path: /etc}}",
			`volume "conf" has a type Pod Security restricted forbids`},

		// Resources
		{"no limits", validate.Resources,
			"{requests: {cpu: 30m, memory: 64Mi}, limits: {cpu: 300m, memory: 128Mi}}", "{requests: {cpu: 30m, memory: 64Mi}}",
			`StatefulSet lab/db: container "db": no cpu limit`},
		{"no memory request", validate.Resources,
			"{requests: {cpu: 5m, memory: 8Mi}, limits", "{requests: {cpu: 5m}, limits",
			`init container "helper": no memory request`},
		{"request above limit", validate.Resources,
			"{requests: {cpu: 20m, memory: 32Mi}", "{requests: {cpu: 20m, memory: 128Mi}",
			`container "web": memory request 128Mi exceeds limit 64Mi`},

		// Images
		{"latest tag", validate.Images,
			"localhost/podpaths/web:0.1.0", "localhost/podpaths/web:latest",
			`container "web": image "localhost/podpaths/web:latest" uses the latest tag`},
		{"no tag", validate.Images,
			"localhost/podpaths/helper:0.1.0", "localhost/podpaths/helper",
			`init container "helper": image "localhost/podpaths/helper" has no tag`},
		{"registry port is not a tag", validate.Images,
			"localhost/podpaths/web:0.1.0", "localhost:5000/podpaths/web",
			`image "localhost:5000/podpaths/web" has no tag`},
		{"pull policy Always", validate.Images,
			"          image: localhost/podpaths/web:0.1.0\n          imagePullPolicy: IfNotPresent\n", "          image: localhost/podpaths/web:0.1.0\n          imagePullPolicy: Always\n",
			`container "web": imagePullPolicy "Always", want IfNotPresent or Never`},
		{"pull policy implicit", validate.Images,
			"          image: localhost/podpaths/web:0.1.0\n          imagePullPolicy: IfNotPresent\n", "          image: localhost/podpaths/web:0.1.0\n",
			`container "web": imagePullPolicy "", want IfNotPresent or Never`},

		// Probes
		{"no readiness probe", validate.Probes,
			"          readinessProbe: {httpGet: {path: /readyz, port: db-admin}}\n", "",
			`StatefulSet lab/db: container "db": no readinessProbe`},
		{"probe on the other container's port", validate.Probes,
			"livenessProbe: {httpGet: {path: /healthz, port: 9091}}", "livenessProbe: {httpGet: {path: /healthz, port: 9090}}",
			`init container "helper": livenessProbe port "9090" is not one of the container's own ports`},
		{"probe not over HTTP", validate.Probes,
			"livenessProbe: {httpGet: {path: /healthz, port: admin}}", "livenessProbe: {tcpSocket: {port: admin}}",
			`container "web": livenessProbe is not an HTTP GET`},

		// Drain
		{"grace shorter than drain", validate.Drain,
			"terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 15",
			"Deployment lab/web: needs 18s to drain and stop (main containers 18s, then native sidecars 0s), terminationGracePeriodSeconds allows 15s"},
		{"an exec preStop's sleep counts", validate.Drain,
			"lifecycle: {preStop: {sleep: {seconds: 5}}}", `lifecycle: {preStop: {exec: {command: [/bin/sh, -c, "touch /tmp/draining && sleep 31"]}}}`,
			"Deployment lab/web: needs 31s to drain and stop (main containers 31s"},
		{"an exec preStop without a sleep", validate.Drain,
			"lifecycle: {preStop: {sleep: {seconds: 5}}}", `lifecycle: {preStop: {exec: {command: [/bin/sh, -c, "nginx -s quit"]}}}`,
			`container "proxy": preStop exec ["/bin/sh" "-c" "nginx -s quit"] does not end in "sleep N"`},

		// ProxyFirst
		{"service stops before the proxy in front of it", validate.ProxyFirst,
			"{name: PODPATHS_DRAIN_DELAY, value: 8s}", "{name: PODPATHS_DRAIN_DELAY, value: 5s}",
			`Deployment lab/web: container "web" drains 5s, not longer than container "proxy"'s preStop pause 5s`},
		{"native sidecar stops after the main containers", validate.Drain,
			"terminationGracePeriodSeconds: 20", "terminationGracePeriodSeconds: 18",
			"StatefulSet lab/db: needs 19s to drain and stop (main containers 14s, then native sidecars 5s)"},
		{"default shutdown timeout counts", validate.Drain,
			"{name: PODPATHS_DRAIN_DELAY, value: 4s}", "{name: PODPATHS_DRAIN_DELAY, value: 10s}",
			"StatefulSet lab/db: needs 25s to drain and stop (main containers 20s"},
		{"no grace period", validate.Drain,
			"      terminationGracePeriodSeconds: 20\n", "",
			"StatefulSet lab/db: terminationGracePeriodSeconds is not set"},
		{"no drain at all", validate.Drain,
			"          lifecycle: {preStop: {sleep: {seconds: 5}}}\n", "",
			`container "proxy": no drain`},
		{"drain delay zero", validate.Drain,
			"{name: PODPATHS_DRAIN_DELAY, value: 4s}", "{name: PODPATHS_DRAIN_DELAY, value: 0s}",
			"PODPATHS_DRAIN_DELAY is 0s, want > 0"},
		{"drain delay unparsable", validate.Drain,
			"{name: PODPATHS_DRAIN_DELAY, value: 2s}", `{name: PODPATHS_DRAIN_DELAY, value: "2"}`,
			`PODPATHS_DRAIN_DELAY="2"`},

		// Availability
		{"rollout may drop a pod", validate.Availability,
			"maxSurge: 1, maxUnavailable: 0", "maxSurge: 1, maxUnavailable: 1",
			"Deployment lab/web: maxUnavailable 1, want 0"},
		{"percent rounds up to a pod", validate.Availability,
			"maxSurge: 1, maxUnavailable: 0", `maxSurge: 1, maxUnavailable: "50%"`,
			"maxUnavailable 50%, want 0"},
		{"rollout cannot progress", validate.Availability,
			"maxSurge: 1, maxUnavailable: 0", "maxSurge: 0, maxUnavailable: 0",
			"maxSurge 0, want at least 1"},
		{"recreate strategy", validate.Availability,
			"  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n", "  strategy: {type: Recreate}\n",
			"Deployment lab/web: want strategy RollingUpdate"},
		{"StatefulSet OnDelete", validate.Availability,
			"updateStrategy: {type: RollingUpdate}", "updateStrategy: {type: OnDelete}",
			`StatefulSet lab/db: updateStrategy "OnDelete", want RollingUpdate`},
		{"no PodDisruptionBudget", validate.Availability,
			"      app.kubernetes.io/name: db\n---\napiVersion: networking.k8s.io/v1", "      app.kubernetes.io/name: web\n---\napiVersion: networking.k8s.io/v1",
			"StatefulSet lab/db: 3 replicas but no PodDisruptionBudget"},
		{"hard spread constraint", validate.Availability,
			"whenUnsatisfiable: ScheduleAnyway, labelSelector", "whenUnsatisfiable: DoNotSchedule, labelSelector",
			"Deployment lab/web: 2 replicas but no topologySpreadConstraint"},
		{"spread over zones only", validate.Availability,
			"          topologyKey: kubernetes.io/hostname\n", "          topologyKey: topology.kubernetes.io/zone\n",
			"StatefulSet lab/db: 3 replicas but no topologySpreadConstraint"},

		// Labels
		{"object without part-of", validate.Labels,
			"  name: web-conf\n  namespace: lab\n  labels: {app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}\n", "  name: web-conf\n  namespace: lab\n  labels: {app.kubernetes.io/managed-by: kustomize}\n",
			"ConfigMap lab/web-conf: labels"},
		{"pod template without part-of", validate.Labels,
			"      labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths}\n", "      labels: {app.kubernetes.io/name: db}\n",
			"StatefulSet lab/db: pod template has no app.kubernetes.io/part-of=podpaths label"},

		// Namespaces
		{"namespace not restricted", validate.Namespaces,
			"pod-security.kubernetes.io/enforce: restricted", "pod-security.kubernetes.io/enforce: baseline",
			"runs pods in Namespace lab, which does not set pod-security.kubernetes.io/enforce=restricted"},
		{"object outside the tree's namespaces", validate.Namespaces,
			"  name: web-conf\n  namespace: lab\n", "  name: web-conf\n  namespace: default\n",
			`ConfigMap default/web-conf: namespace "default" is not created by this tree`},

		// ConfigMapRefs
		{"mounted ConfigMap missing", validate.ConfigMapRefs,
			"configMap: {name: web-conf,", "configMap: {name: web-conf-5h2k9,",
			`Deployment lab/web: volume "conf" mounts ConfigMap "web-conf-5h2k9"`},
		{"mounted key missing", validate.ConfigMapRefs,
			"[{key: default.conf, path: default.conf}]", "[{key: static.conf, path: default.conf}]",
			`Deployment lab/web: volume "conf" selects key "static.conf", which ConfigMap web-conf does not have`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if n := strings.Count(fixture, tc.old); n != 1 {
				t.Fatalf("fixture contains %q %d times, want exactly 1", tc.old, n)
			}
			broken := strings.Replace(fixture, tc.old, tc.new, 1)
			set, err := validate.Decode([]byte(broken))
			if err != nil {
				t.Fatalf("Decode(broken fixture): %v", err)
			}
			errs := tc.check(set)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("replacing %q with %q: got errors %v, want one containing %q", tc.old, tc.new, errs, tc.want)
		})
	}
}

package validate_test

// fixture is a small tree that passes every check: a Deployment with two containers and a StatefulSet with a
// native sidecar, their Services, budgets and a NetworkPolicy. Each negative case below breaks one line of it.
// Every string a case replaces occurs exactly once, which the test asserts, so no case can quietly stop applying.
const fixture = `
apiVersion: v1
kind: Namespace
metadata:
  name: lab
  labels: {app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize, pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-conf
  namespace: lab
  labels: {app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
data: {default.conf: "server {}"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: lab
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web, app.kubernetes.io/part-of: podpaths}
    spec:
      terminationGracePeriodSeconds: 30
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app.kubernetes.io/name: web}}}
      containers:
        - name: proxy
          image: nginxinc/nginx-unprivileged:1.28.0-alpine
          imagePullPolicy: IfNotPresent
          ports: [{name: http, containerPort: 8080}]
          lifecycle: {preStop: {sleep: {seconds: 5}}}
          readinessProbe: {httpGet: {path: /nginx-health, port: http}}
          livenessProbe: {httpGet: {path: /nginx-health, port: http}}
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 32Mi}}
          securityContext: {runAsNonRoot: true, runAsUser: 101, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}
          volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d, readOnly: true}]
        - name: web
          image: localhost/podpaths/web:0.1.0
          imagePullPolicy: IfNotPresent
          ports: [{name: admin, containerPort: 9090}]
          env: [{name: PODPATHS_DRAIN_DELAY, value: 8s}, {name: PODPATHS_SHUTDOWN_TIMEOUT, value: 10s}]
          readinessProbe: {httpGet: {path: /readyz, port: admin}}
          livenessProbe: {httpGet: {path: /healthz, port: admin}}
          resources: {requests: {cpu: 20m, memory: 32Mi}, limits: {cpu: 200m, memory: 64Mi}}
          securityContext: {runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}
      volumes:
        - {name: conf, configMap: {name: web-conf, items: [{key: default.conf, path: default.conf}]}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: lab
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  replicas: 3
  serviceName: db-headless
  selector:
    matchLabels: {app.kubernetes.io/name: db}
  updateStrategy: {type: RollingUpdate}
  template:
    metadata:
      labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths}
    spec:
      terminationGracePeriodSeconds: 20
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector: {matchLabels: {app.kubernetes.io/name: db}}
      initContainers:
        - name: helper
          image: localhost/podpaths/helper:0.1.0
          imagePullPolicy: Never
          restartPolicy: Always
          ports: [{name: helper-admin, containerPort: 9091}]
          env: [{name: PODPATHS_DRAIN_DELAY, value: 2s}, {name: PODPATHS_SHUTDOWN_TIMEOUT, value: 3s}]
          readinessProbe: {httpGet: {path: /readyz, port: helper-admin}}
          livenessProbe: {httpGet: {path: /healthz, port: 9091}}
          resources: {requests: {cpu: 5m, memory: 8Mi}, limits: {cpu: 50m, memory: 16Mi}}
          securityContext: {runAsNonRoot: true, runAsUser: 65533, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: Localhost, localhostProfile: helper.json}}
      containers:
        - name: db
          image: localhost/podpaths/db@sha256:0000000000000000000000000000000000000000000000000000000000000000
          imagePullPolicy: IfNotPresent
          ports: [{name: sql, containerPort: 5432}, {name: db-admin, containerPort: 9090}]
          env: [{name: PODPATHS_DRAIN_DELAY, value: 4s}]
          readinessProbe: {httpGet: {path: /readyz, port: db-admin}}
          livenessProbe: {httpGet: {path: /healthz, port: db-admin}}
          resources: {requests: {cpu: 30m, memory: 64Mi}, limits: {cpu: 300m, memory: 128Mi}}
          securityContext: {runAsNonRoot: true, runAsUser: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: lab
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  type: ClusterIP
  selector: {app.kubernetes.io/name: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: web-nodeport
  namespace: lab
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  type: NodePort
  selector:
    app.kubernetes.io/name: web
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: lab
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  selector: {app.kubernetes.io/name: db}
  ports: [{name: sql, port: 5432, targetPort: sql}]
---
apiVersion: v1
kind: Service
metadata:
  name: db-headless
  namespace: lab
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  clusterIP: None
  publishNotReadyAddresses: false
  selector:
    app.kubernetes.io/name: db
  ports:
    - name: sql
      port: 5432
      targetPort: sql
---
apiVersion: v1
kind: Service
metadata:
  name: db-alias
  namespace: lab
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  type: ExternalName
  externalName: db.lab.svc.cluster.local
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: lab
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: db
  namespace: lab
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: db
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: lab
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/part-of: podpaths, app.kubernetes.io/managed-by: kustomize}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: db
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: web
      ports: [{port: sql, protocol: TCP}]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      ports: [{port: 53, protocol: UDP}]
`

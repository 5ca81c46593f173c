package kube

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Clients are the API clients the lab and the e2e suite use: the typed
// client, the dynamic one that applies rendered manifests, and the REST
// mapper that tells the dynamic client which resource a kind is.
type Clients struct {
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// requestTimeout bounds every API request, so that an API server that
// stopped answering fails a command instead of hanging it.
const requestTimeout = 30 * time.Second

// FromKubeconfig connects with a kubeconfig's current context.
func FromKubeconfig(kubeconfig []byte) (Clients, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return Clients{}, fmt.Errorf("kubeconfig: %w", err)
	}
	return New(cfg)
}

// New connects with cfg, with a request timeout if cfg has none.
func New(cfg *rest.Config) (Clients, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = requestTimeout
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("dynamic client: %w", err)
	}
	// Discovery is read lazily and cached, the way kubectl maps kinds to
	// resources; manifest.Apply reads it again when a kind is new.
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(client.Discovery()))
	return Clients{Config: cfg, Kube: client, Dynamic: dyn, Mapper: mapper}, nil
}

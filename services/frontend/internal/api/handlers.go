package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/spread"
)

func handlePaths(deps Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), deps.ReportTimeout)
		defer cancel()
		serve.JSON(w, http.StatusOK, deps.Reporter.Report(ctx))
	}
}

func handleLinks(links []report.Link) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		serve.JSON(w, http.StatusOK, report.Links{Links: links})
	}
}

// spreadQuery is the parsed query of /api/spread.
type spreadQuery struct {
	n         int
	keepAlive bool
}

const defaultSpreadN = 20

func parseSpreadQuery(r *http.Request, maxN int) (spreadQuery, error) {
	q := spreadQuery{n: defaultSpreadN}
	if s := r.URL.Query().Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxN {
			return q, fmt.Errorf("n must be a whole number from 1 to %d, got %q", maxN, s)
		}
		q.n = n
	}
	if s := r.URL.Query().Get("keepalive"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, fmt.Errorf("keepalive must be true or false, got %q", s)
		}
		q.keepAlive = b
	}
	return q, nil
}

func handleSpread(deps Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parseSpreadQuery(r, deps.SpreadMax)
		if err != nil {
			serve.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), deps.ReportTimeout)
		defer cancel()
		res := runSpread(ctx, deps, q)
		if res.Error != "" {
			serve.JSON(w, http.StatusBadGateway, res)
			return
		}
		serve.JSON(w, http.StatusOK, res)
	}
}

// runSpread calls the backend's ClusterIP q.n times. A fresh client per run
// means a fresh connection pool, so keep-alive really starts from nothing.
// When the ClusterIP cannot be found, the answer's Error says why.
func runSpread(ctx context.Context, deps Deps, q spreadQuery) report.Spread {
	res := report.Spread{Service: deps.Backend.Service, N: q.n, KeepAlive: q.keepAlive}
	target, method, err := clusterIPTarget(ctx, deps.Backend)
	res.Method, res.Query, res.Address = method, target.Query, target.Addr
	if err != nil {
		res.Query = discovery.QueryOf(err)
		res.Error = fmt.Sprintf("find %s: %v", deps.Backend.Service, err)
		return res
	}
	client := probe.NewClient(probe.ClientOptions{Timeout: deps.PeerTimeout, KeepAlive: q.keepAlive})
	defer client.CloseIdleConnections()
	res.Pods, res.Errors = spread.Run(ctx, &probe.Prober{Client: client, Timeout: deps.PeerTimeout}, target, q.n)
	return res
}

// clusterIPTarget finds the Service's virtual IP by DNS, or else by its
// service-link variables.
func clusterIPTarget(ctx context.Context, peer discovery.Peer) (discovery.Target, report.Method, error) {
	t, dnsErr := peer.Find(ctx, report.MethodDNS)
	if dnsErr == nil {
		return t[0], report.MethodDNS, nil
	}
	t, envErr := peer.Find(ctx, report.MethodEnv)
	if envErr == nil {
		return t[0], report.MethodEnv, nil
	}
	return discovery.Target{}, report.MethodDNS, errors.Join(dnsErr, envErr)
}

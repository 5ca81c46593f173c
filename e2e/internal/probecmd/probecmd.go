// Package probecmd is the e2e suite's probe: a small client that runs inside
// a pod (or an outside network namespace) and reports, as JSON, what one
// vantage point sees: HTTP calls with their error kinds, DNS A and SRV
// answers, and its own environment. It plays the part of Kubernetes'
// agnhost connect and netexec, with the error kinds of platform/probe, so
// that "refused" and "timeout" mean the same in the dashboard, `make check`
// and e2e.
//
//	probe get URL [--count N] [--no-keepalive] [--timeout D]
//	probe lookup NAME [--timeout D]
//	probe srv _http._tcp.NAME [--timeout D]
//	probe env
//	probe sleep
//	probe term PID
//
// Every command prints one JSON object on stdout. Exit status: 0 when every
// call or lookup worked, 1 when one failed (the JSON says how), 2 for a bad
// command line.
package probecmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `usage:
  probe get URL [--count N] [--no-keepalive] [--timeout D] [--dns-server HOST:PORT] [--local-port P]
  probe lookup NAME [--timeout D] [--dns-server HOST:PORT]
  probe srv _SERVICE._PROTO.NAME [--timeout D] [--dns-server HOST:PORT]
  probe env
  probe sleep
  probe term PID
`

// errUsage marks a bad command line.
var errUsage = errors.New("usage")

// Run runs one probe command. ctx ends `sleep`; environ is what `env` prints.
func Run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	out, err := run(ctx, args, environ)
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "probe: %v\n%s", err, usage) //nolint:errcheck // stderr is the last resort
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err) //nolint:errcheck // stderr is the last resort
		return exitFailed
	}
	if out.value == nil {
		return exitOK
	}
	if err := json.NewEncoder(stdout).Encode(out.value); err != nil {
		fmt.Fprintf(stderr, "probe: write output: %v\n", err) //nolint:errcheck // stderr is the last resort
		return exitFailed
	}
	if out.failed {
		return exitFailed
	}
	return exitOK
}

// result is a command's JSON output and whether what it tried failed.
type result struct {
	value  any
	failed bool
}

func run(ctx context.Context, args, environ []string) (result, error) {
	if len(args) == 0 {
		return result{}, fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "get":
		return runGet(ctx, rest)
	case "lookup":
		return runLookup(ctx, rest, "A")
	case "srv":
		return runLookup(ctx, rest, "SRV")
	case "env":
		if len(rest) > 0 {
			return result{}, fmt.Errorf("%w: env takes no arguments", errUsage)
		}
		return result{value: report.ProbeEnv{Env: envMap(environ)}}, nil
	case "sleep":
		if len(rest) > 0 {
			return result{}, fmt.Errorf("%w: sleep takes no arguments", errUsage)
		}
		// The probe is PID 1 in its container, where signals without a
		// handler are ignored; main's context ends on SIGTERM.
		<-ctx.Done()
		return result{}, nil
	case "term":
		return runTerm(rest)
	default:
		return result{}, fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// runTerm sends SIGTERM to a process, as a container's runtime does to stop
// it. Run from an ephemeral container that targets another container, `term
// 1` stops that container's program (PID 1 of the shared namespace): the
// workshop's drills kill a sidecar this way, on any cluster.
func runTerm(args []string) (result, error) {
	if len(args) != 1 {
		return result{}, fmt.Errorf("%w: term needs exactly one PID, got %q", errUsage, args)
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid < 1 {
		return result{}, fmt.Errorf("%w: term needs a PID, got %q", errUsage, args[0])
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return result{}, fmt.Errorf("term %d: %w", pid, err)
	}
	return result{}, nil
}

func runGet(ctx context.Context, args []string) (result, error) {
	fs := newFlagSet("get")
	count := fs.Int("count", 1, "number of requests")
	noKeepAlive := fs.Bool("no-keepalive", false, "open a new connection for every request")
	timeout := fs.Duration("timeout", 5*time.Second, "timeout of each request")
	dnsServer := fs.String("dns-server", "", "host:port of a DNS server to use instead of the system resolver")
	localPort := fs.Int("local-port", 0, "source port of the connection (with --count 1 only: a closed connection may hold its port)")
	pos, err := parse(fs, args)
	if err != nil {
		return result{}, err
	}
	if len(pos) != 1 {
		return result{}, fmt.Errorf("%w: get needs exactly one URL, got %q", errUsage, pos)
	}
	if *count < 1 || *timeout <= 0 {
		return result{}, fmt.Errorf("%w: --count must be at least 1 and --timeout positive", errUsage)
	}
	if *localPort < 0 || *localPort > 65535 || (*localPort != 0 && *count != 1) {
		return result{}, fmt.Errorf("%w: --local-port must be a port number, and goes with --count 1 only", errUsage)
	}
	out := Get(ctx, pos[0], GetOptions{
		Count: *count, KeepAlive: !*noKeepAlive, Timeout: *timeout, DNSServer: *dnsServer, LocalPort: *localPort,
	})
	return result{value: out, failed: out.Failed > 0}, nil
}

func runLookup(ctx context.Context, args []string, typ string) (result, error) {
	fs := newFlagSet(strings.ToLower(typ))
	timeout := fs.Duration("timeout", 5*time.Second, "timeout of the lookup")
	dnsServer := fs.String("dns-server", "", "host:port of a DNS server to use instead of the system resolver")
	pos, err := parse(fs, args)
	if err != nil {
		return result{}, err
	}
	if len(pos) != 1 {
		return result{}, fmt.Errorf("%w: %s needs exactly one name, got %q", errUsage, fs.Name(), pos)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	r := discovery.NetResolver(*dnsServer, *timeout)
	var out report.ProbeLookup
	if typ == "A" {
		out = lookupA(ctx, r, pos[0])
	} else {
		out = lookupSRV(ctx, r, pos[0])
	}
	return result{value: out, failed: out.ErrorKind != ""}, nil
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags anywhere on the line, before or after the positional
// arguments (`get URL --count 3`), which Go's flag package alone does not.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errUsage, fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// envMap turns KEY=VALUE strings into a map.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// sortedSRV orders records by target, so that output is stable.
func sortedSRV(rs []report.ProbeSRV) []report.ProbeSRV {
	slices.SortFunc(rs, func(a, b report.ProbeSRV) int { return strings.Compare(a.Target, b.Target) })
	return rs
}

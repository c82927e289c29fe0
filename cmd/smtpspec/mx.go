package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/mx"
)

// mxFlags pick the target by mail domain, as a sending MTA would; part of
// targetFlags, so run and diff share them.
type mxFlags struct {
	domain    string
	all       bool
	port      string
	dnsServer string
	tlsName   string
}

// mxOnlyFlags are the flags that mean something only with --mx.
var mxOnlyFlags = []string{"all-mx", "port", "dns-server"}

func (m *mxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.domain, "mx", "", "test the mail server of this domain: MX records by preference, the implicit MX when there is none (RFC 5321 §5.1), the first that accepts a connection")
	fs.BoolVar(&m.all, "all-mx", false, "with --mx: test every mail server of the domain in turn (report files get the host name before their extension)")
	fs.StringVar(&m.port, "port", "25", "with --mx: the port to test the mail servers on")
	fs.StringVar(&m.dnsServer, "dns-server", "", "with --mx: the DNS server to ask, host[:port] (default: the first nameserver in /etc/resolv.conf)")
	fs.StringVar(&m.tlsName, "tls-name", "", "the name to verify the target's TLS certificate against (default: the --target host, or the MX host name)")
}

// check rejects mx flags used without --mx, and --mx with --target.
func (m *mxFlags) check(fs *flag.FlagSet, target string) error {
	if m.domain == "" {
		for _, name := range mxOnlyFlags {
			if flagSet(fs, name) {
				return fmt.Errorf("--%s needs --mx DOMAIN", name)
			}
		}
		return nil
	}
	if target != "" {
		return errors.New("--mx and --target are exclusive: give one")
	}
	return nil
}

// lookupTimeout bounds each DNS query and each connection attempt.
const lookupTimeout = 5 * time.Second

// resolve finds the domain's mail servers and the first reachable one.
func (m *mxFlags) resolve() (*mx.Reachable, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hosts, err := m.lookup(ctx)
	if err != nil {
		return nil, err
	}
	a, err := mx.Dial(ctx, hosts, m.port, lookupTimeout)
	if err != nil {
		return nil, fmt.Errorf("--mx %s: %w", m.domain, err)
	}
	return a, nil
}

func (m *mxFlags) lookup(ctx context.Context) ([]mx.Host, error) {
	r := &mx.Resolver{Server: m.dnsServer, Timeout: lookupTimeout}
	hosts, err := r.Lookup(ctx, m.domain)
	if err != nil {
		return nil, fmt.Errorf("--mx %s: %w", m.domain, err)
	}
	return hosts, nil
}

// dispatch checks the mx flags and, for --all-mx, runs cmd once per mail
// server; done reports whether it did (or the flags were wrong), and
// status is then the exit status.
func (m *mxFlags) dispatch(fs *flag.FlagSet, target string, stdout, stderr io.Writer, name string, cmd func([]string, io.Writer, io.Writer) int) (status int, done bool) {
	if err := m.check(fs, target); err != nil {
		fmt.Fprintf(stderr, "smtpspec %s: %v\n", name, err)
		return exitUsage, true
	}
	if !m.all {
		return 0, false
	}
	return eachMX(fs, m, stdout, stderr, name, cmd), true
}

// target returns the first reachable mail server of --mx as the target.
func (m *mxFlags) target(t *targetFlags) (harness.Target, error) {
	a, err := m.resolve()
	if err != nil {
		return harness.Target{}, err
	}
	name := m.tlsName
	if name == "" {
		name = a.Host.Name
	}
	return harness.Target{
		Addr:      a.Addr,
		TLS:       t.tls,
		TLSConfig: &tls.Config{InsecureSkipVerify: t.insecure, ServerName: name, ClientSessionCache: tls.NewLRUClientSessionCache(64)},
		Name:      fmt.Sprintf("%s, mail server of %s", a.Host, m.domain),
	}, nil
}

// eachMX runs cmd once per mail server of --mx (for --all-mx), with the
// same flags but --target pinned to that server and report files named
// after it. The exit status is the worst of the runs; a server that cannot
// be reached counts as exitTrouble.
func eachMX(fs *flag.FlagSet, m *mxFlags, stdout, stderr io.Writer, name string, cmd func([]string, io.Writer, io.Writer) int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hosts, err := m.lookup(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec %s: %v\n", name, err)
		return exitTrouble
	}
	found, errs := mx.DialEach(ctx, hosts, m.port, lookupTimeout)
	base := flagArgs(fs, "mx", "all-mx", "port", "dns-server", "tls-name", "report")
	var reports []string
	fs.Visit(func(f *flag.Flag) {
		if l, ok := f.Value.(*listFlag); ok && f.Name == "report" {
			reports = *l
		}
	})
	status := exitOK
	for i, a := range found {
		fmt.Fprintf(stdout, "=== %s\n", hosts[i])
		if a == nil {
			fmt.Fprintf(stderr, "smtpspec %s: not reachable on port %s: %v\n", name, m.port, errs[i])
			status = max(status, exitTrouble)
			continue
		}
		args := slices.Clone(base)
		tlsName := m.tlsName
		if tlsName == "" {
			tlsName = a.Host.Name
		}
		args = append(args, "--target="+a.Addr, "--tls-name="+tlsName)
		for _, r := range reports {
			args = append(args, "--report="+perHost(r, a.Host.Name))
		}
		status = max(status, cmd(args, stdout, stderr))
	}
	return status
}

// perHost puts host into a report path before its extension:
// json=out/run.json → json=out/run.mx1.example.org.json. Stdout stays.
func perHost(spec, host string) string {
	format, path, ok := strings.Cut(spec, "=")
	if !ok || path == "-" {
		return spec
	}
	dir, file := "", path
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		dir, file = path[:i+1], path[i+1:]
	}
	stem, ext := file, ""
	if i := strings.LastIndexByte(file, '.'); i > 0 {
		stem, ext = file[:i], file[i:]
	}
	return format + "=" + dir + stem + "." + host + ext
}

// flagArgs rebuilds the command line of the flags the user set, except
// those named in drop.
func flagArgs(fs *flag.FlagSet, drop ...string) []string {
	var out []string
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(drop, f.Name) {
			return
		}
		if l, ok := f.Value.(*listFlag); ok {
			for _, v := range *l {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}

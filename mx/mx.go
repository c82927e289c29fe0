// Package mx finds the mail servers of a domain the way a sending MTA does
// (RFC 5321 §5.1): the MX records in order of preference, equal
// preferences in random order; the domain itself as an implicit MX when it
// has no MX records but has an address; and, per RFC 7505, a "null MX"
// (a single MX record whose exchange is ".") meaning that the domain
// accepts no mail at all.
//
// The standard resolver cannot tell these apart (net.LookupMX reports "no
// such host" both for a domain that does not exist and for one without MX
// records, and gives no access to the response code), so the package asks
// a DNS server directly with github.com/miekg/dns: the system's (from
// /etc/resolv.conf) or one given explicitly, which is how tests point it at
// a server of their own on 127.0.0.1.
package mx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// A Host is one mail server of a domain.
type Host struct {
	Name       string       // the exchange, without the trailing dot
	Preference uint16       // lower is tried first
	Implicit   bool         // no MX records: the domain itself (RFC 5321 §5.1)
	Addrs      []netip.Addr // IPv6 then IPv4, as RFC 5321 §5.1 lets a client prefer
}

func (h Host) String() string {
	if h.Implicit {
		return h.Name + " (implicit MX)"
	}
	return fmt.Sprintf("%s (MX %d)", h.Name, h.Preference)
}

// A NullMXError reports a domain that publishes a null MX (RFC 7505): it
// accepts no mail.
type NullMXError struct{ Domain string }

func (e *NullMXError) Error() string {
	return fmt.Sprintf("%s publishes a null MX (RFC 7505): the domain accepts no mail", e.Domain)
}

// A NoMailError reports a domain with no mail server to try: it does not
// exist, or it has neither MX nor address records.
type NoMailError struct {
	Domain string
	Reason string
}

func (e *NoMailError) Error() string {
	return fmt.Sprintf("%s has no mail server: %s", e.Domain, e.Reason)
}

// A Resolver looks up mail servers.
type Resolver struct {
	// Server is the DNS server to ask, host:port ("127.0.0.1:5353"); ""
	// means the first nameserver in /etc/resolv.conf.
	Server string
	// Timeout bounds each DNS query; default 5s.
	Timeout time.Duration
	// Shuffle orders hosts of equal preference; nil uses math/rand. Tests
	// set it to keep the order as published.
	Shuffle func(hosts []Host)
}

// maxCNAME bounds the CNAME chain followed for one name.
const maxCNAME = 8

// Lookup returns the domain's mail servers in the order a sending MTA tries
// them. It returns a *NullMXError for a null MX and a *NoMailError when
// there is nothing to try.
func (r *Resolver) Lookup(ctx context.Context, domain string) ([]Host, error) {
	domain = strings.TrimSuffix(strings.TrimSpace(domain), ".")
	if domain == "" {
		return nil, errors.New("mx: empty domain")
	}
	if _, ok := dns.IsDomainName(domain); !ok {
		return nil, fmt.Errorf("mx: %q is not a domain name", domain)
	}
	rcode, answers, extra, err := r.query(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	if rcode == dns.RcodeNameError {
		return nil, &NoMailError{Domain: domain, Reason: "the domain does not exist (NXDOMAIN)"}
	}
	if rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("mx: MX query for %s: %s", domain, dns.RcodeToString[rcode])
	}
	var mxs []*dns.MX
	for _, rr := range answers {
		if m, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, m)
		}
	}
	if len(mxs) == 0 {
		addrs, err := r.addrs(ctx, domain, nil)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &NoMailError{Domain: domain, Reason: "no MX records and no address records"}
		}
		return []Host{{Name: domain, Implicit: true, Addrs: addrs}}, nil
	}
	for _, m := range mxs {
		if m.Mx == "." {
			// RFC 7505 §3: a null MX is the only MX record; one that comes
			// with others is a misconfiguration, and §4.3 still says the
			// domain takes no mail.
			return nil, &NullMXError{Domain: domain}
		}
	}
	hosts := make([]Host, 0, len(mxs))
	for _, m := range mxs {
		name := strings.TrimSuffix(m.Mx, ".")
		if slices.ContainsFunc(hosts, func(h Host) bool { return strings.EqualFold(h.Name, name) }) {
			continue
		}
		hosts = append(hosts, Host{Name: name, Preference: m.Preference})
	}
	slices.SortStableFunc(hosts, func(a, b Host) int { return int(a.Preference) - int(b.Preference) })
	r.shuffleEqual(hosts)
	for i := range hosts {
		addrs, err := r.addrs(ctx, hosts[i].Name, extra)
		if err != nil {
			return nil, err
		}
		hosts[i].Addrs = addrs
	}
	return hosts, nil
}

// shuffleEqual randomises the order within each run of equal preference
// (RFC 5321 §5.1: "the sender-SMTP MUST randomize them").
func (r *Resolver) shuffleEqual(hosts []Host) {
	for i := 0; i < len(hosts); {
		j := i + 1
		for j < len(hosts) && hosts[j].Preference == hosts[i].Preference {
			j++
		}
		if j-i > 1 {
			if r.Shuffle != nil {
				r.Shuffle(hosts[i:j])
			} else {
				run := hosts[i:j]
				rand.Shuffle(len(run), func(a, b int) { run[a], run[b] = run[b], run[a] })
			}
		}
		i = j
	}
}

// addrs returns the IPv6 and IPv4 addresses of name, taking them from the
// additional section of the MX response when it has them.
func (r *Resolver) addrs(ctx context.Context, name string, extra []dns.RR) ([]netip.Addr, error) {
	fromExtra := addrsOf(extra, name)
	if len(fromExtra) > 0 {
		return fromExtra, nil
	}
	var out []netip.Addr
	for _, t := range []uint16{dns.TypeAAAA, dns.TypeA} {
		rcode, answers, _, err := r.query(ctx, name, t)
		if err != nil {
			return nil, err
		}
		if rcode != dns.RcodeSuccess && rcode != dns.RcodeNameError {
			return nil, fmt.Errorf("mx: %s query for %s: %s", dns.TypeToString[t], name, dns.RcodeToString[rcode])
		}
		out = append(out, addrsOf(answers, "")...)
	}
	return out, nil
}

// addrsOf collects the addresses in rrs, of owner name when name is set.
func addrsOf(rrs []dns.RR, name string) []netip.Addr {
	var v6, v4 []netip.Addr
	for _, rr := range rrs {
		if name != "" && !strings.EqualFold(strings.TrimSuffix(rr.Header().Name, "."), name) {
			continue
		}
		switch a := rr.(type) {
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(a.AAAA); ok {
				v6 = append(v6, ip)
			}
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
				v4 = append(v4, ip)
			}
		}
	}
	return append(v6, v4...)
}

// query asks for name's records of type t, following CNAMEs, and returns
// the response code, the records of the type asked for, and the additional
// section.
func (r *Resolver) query(ctx context.Context, name string, t uint16) (int, []dns.RR, []dns.RR, error) {
	server, err := r.server()
	if err != nil {
		return 0, nil, nil, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	c := &dns.Client{Timeout: timeout}
	qname := dns.Fqdn(name)
	for range maxCNAME {
		m := new(dns.Msg)
		m.SetQuestion(qname, t)
		m.RecursionDesired = true
		qctx, cancel := context.WithTimeout(ctx, timeout)
		in, _, err := c.ExchangeContext(qctx, m, server)
		cancel()
		if err == nil && in.Truncated {
			tc := &dns.Client{Net: "tcp", Timeout: timeout}
			qctx, cancel := context.WithTimeout(ctx, timeout)
			in, _, err = tc.ExchangeContext(qctx, m, server)
			cancel()
		}
		if err != nil {
			return 0, nil, nil, fmt.Errorf("mx: %s query for %s at %s: %w", dns.TypeToString[t], name, server, err)
		}
		var out []dns.RR
		var cname string
		for _, rr := range in.Answer {
			switch {
			case rr.Header().Rrtype == t:
				out = append(out, rr)
			case rr.Header().Rrtype == dns.TypeCNAME && strings.EqualFold(rr.Header().Name, qname):
				cname = rr.(*dns.CNAME).Target
			}
		}
		if len(out) > 0 || cname == "" || in.Rcode != dns.RcodeSuccess {
			return in.Rcode, out, in.Extra, nil
		}
		qname = cname
	}
	return 0, nil, nil, fmt.Errorf("mx: %s: CNAME chain longer than %d", name, maxCNAME)
}

// server returns the DNS server to ask.
func (r *Resolver) server() (string, error) {
	if r.Server != "" {
		if _, _, err := net.SplitHostPort(r.Server); err != nil {
			return net.JoinHostPort(r.Server, "53"), nil
		}
		return r.Server, nil
	}
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(cfg.Servers) == 0 {
		return "", fmt.Errorf("mx: no DNS server configured (/etc/resolv.conf): %v", err)
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
}

// A Reachable is a host with the address that answered.
type Reachable struct {
	Host Host
	Addr string // ip:port
}

// Dial tries the hosts' addresses in order, TCP on port, and returns the
// first that accepts a connection (closing it again), as a sending MTA
// picks the server it delivers to. Every error is reported when none
// answers.
func Dial(ctx context.Context, hosts []Host, port string, timeout time.Duration) (*Reachable, error) {
	var errs []error
	for _, h := range hosts {
		if a, err := dialHost(ctx, h, port, timeout); err == nil {
			return a, nil
		} else {
			errs = append(errs, err)
		}
	}
	return nil, fmt.Errorf("no mail server reachable on port %s: %w", port, errors.Join(errs...))
}

// DialEach returns, for each host, the first of its addresses that accepts
// a connection on port (the error when none does).
func DialEach(ctx context.Context, hosts []Host, port string, timeout time.Duration) ([]*Reachable, []error) {
	out := make([]*Reachable, len(hosts))
	errs := make([]error, len(hosts))
	for i, h := range hosts {
		out[i], errs[i] = dialHost(ctx, h, port, timeout)
	}
	return out, errs
}

func dialHost(ctx context.Context, h Host, port string, timeout time.Duration) (*Reachable, error) {
	if len(h.Addrs) == 0 {
		return nil, fmt.Errorf("%s: no address records", h)
	}
	var errs []error
	for _, ip := range h.Addrs {
		addr := net.JoinHostPort(ip.String(), port)
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Close()
		return &Reachable{Host: h, Addr: addr}, nil
	}
	return nil, fmt.Errorf("%s: %w", h, errors.Join(errs...))
}

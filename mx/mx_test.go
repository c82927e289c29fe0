package mx_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/smtpspec/smtpspec/mx"
)

// zone is the test DNS data: owner name (FQDN, lower case) → records.
var zone = map[string][]string{
	"pref.test.": {
		"pref.test. 60 IN MX 20 mx2.pref.test.",
		"pref.test. 60 IN MX 10 mx1.pref.test.",
		"pref.test. 60 IN MX 30 mx3.pref.test.",
	},
	"mx1.pref.test.":   {"mx1.pref.test. 60 IN A 127.0.0.11"},
	"mx2.pref.test.":   {"mx2.pref.test. 60 IN A 127.0.0.12", "mx2.pref.test. 60 IN AAAA ::1"},
	"mx3.pref.test.":   {"mx3.pref.test. 60 IN CNAME real3.pref.test."},
	"real3.pref.test.": {"real3.pref.test. 60 IN A 127.0.0.13"},
	"implicit.test.":   {"implicit.test. 60 IN A 127.0.0.21"},
	"null.test.":       {"null.test. 60 IN MX 0 ."},
	"nothing.test.":    {"nothing.test. 60 IN TXT \"no mail here\""},
	"alias.test.":      {"alias.test. 60 IN CNAME pref.test."},
	"equal.test.": {
		"equal.test. 60 IN MX 10 a.equal.test.",
		"equal.test. 60 IN MX 5 first.equal.test.",
		"equal.test. 60 IN MX 10 b.equal.test.",
	},
	"a.equal.test.":     {"a.equal.test. 60 IN A 127.0.0.31"},
	"b.equal.test.":     {"b.equal.test. 60 IN A 127.0.0.32"},
	"first.equal.test.": {"first.equal.test. 60 IN A 127.0.0.33"},
}

// startDNS serves zone on 127.0.0.1 over UDP and returns its address.
func startDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		recs, ok := zone[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, s := range recs {
			rr, err := dns.NewRR(s)
			if err != nil {
				panic(err)
			}
			if rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == dns.TypeCNAME {
				m.Answer = append(m.Answer, rr)
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func resolver(t *testing.T) *mx.Resolver {
	return &mx.Resolver{Server: startDNS(t), Timeout: 2 * time.Second, Shuffle: func([]mx.Host) {}}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	ip := netip.MustParseAddr
	tests := []struct {
		domain string
		want   []mx.Host
	}{
		{"pref.test", []mx.Host{
			{Name: "mx1.pref.test", Preference: 10, Addrs: []netip.Addr{ip("127.0.0.11")}},
			{Name: "mx2.pref.test", Preference: 20, Addrs: []netip.Addr{ip("::1"), ip("127.0.0.12")}},
			{Name: "mx3.pref.test", Preference: 30, Addrs: []netip.Addr{ip("127.0.0.13")}},
		}},
		{"Pref.Test.", []mx.Host{
			{Name: "mx1.pref.test", Preference: 10, Addrs: []netip.Addr{ip("127.0.0.11")}},
			{Name: "mx2.pref.test", Preference: 20, Addrs: []netip.Addr{ip("::1"), ip("127.0.0.12")}},
			{Name: "mx3.pref.test", Preference: 30, Addrs: []netip.Addr{ip("127.0.0.13")}},
		}},
		{"implicit.test", []mx.Host{{Name: "implicit.test", Implicit: true, Addrs: []netip.Addr{ip("127.0.0.21")}}}},
		{"alias.test", []mx.Host{
			{Name: "mx1.pref.test", Preference: 10, Addrs: []netip.Addr{ip("127.0.0.11")}},
			{Name: "mx2.pref.test", Preference: 20, Addrs: []netip.Addr{ip("::1"), ip("127.0.0.12")}},
			{Name: "mx3.pref.test", Preference: 30, Addrs: []netip.Addr{ip("127.0.0.13")}},
		}},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := r.Lookup(ctx, tt.domain)
		cancel()
		if err != nil {
			t.Errorf("Lookup(%q): %v", tt.domain, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("Lookup(%q) (-want +got):\n%s", tt.domain, diff)
		}
	}
}

func TestLookup_errors(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var null *mx.NullMXError
	if _, err := r.Lookup(ctx, "null.test"); !errors.As(err, &null) {
		t.Errorf("Lookup(null.test) = %v, want a *NullMXError", err)
	} else if !strings.Contains(err.Error(), "accepts no mail") {
		t.Errorf("Lookup(null.test) error %q does not say the domain accepts no mail", err)
	}
	var none *mx.NoMailError
	for _, d := range []string{"nothing.test", "missing.test"} {
		if _, err := r.Lookup(ctx, d); !errors.As(err, &none) {
			t.Errorf("Lookup(%s) = %v, want a *NoMailError", d, err)
		}
	}
	if _, err := r.Lookup(ctx, "bad domain"); err == nil {
		t.Errorf("Lookup(%q) = nil error, want one", "bad domain")
	}
}

func TestLookup_shufflesEqualPreference(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	var runs [][]string
	r.Shuffle = func(hs []mx.Host) {
		var names []string
		for _, h := range hs {
			names = append(names, h.Name)
		}
		runs = append(runs, names)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.Lookup(ctx, "pref.test"); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Errorf("pref.test: Shuffle called for %v, want no call: every preference differs", runs)
	}
	hosts, err := r.Lookup(ctx, "equal.test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"a.equal.test", "b.equal.test"}}, runs); diff != "" {
		t.Errorf("equal.test: Shuffle calls (-want +got):\n%s", diff)
	}
	if hosts[0].Name != "first.equal.test" {
		t.Errorf("equal.test: first host %s, want first.equal.test (preference 5)", hosts[0].Name)
	}
}

func TestDial(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	// A port on 127.0.0.2 where nothing listens comes first.
	hosts := []mx.Host{
		{Name: "down.test", Preference: 10, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}},
		{Name: "noaddr.test", Preference: 15},
		{Name: "up.test", Preference: 20, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := mx.Dial(ctx, hosts, port, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Host.Name != "up.test" || got.Addr != l.Addr().String() {
		t.Errorf("Dial = %s at %s, want up.test at %s", got.Host.Name, got.Addr, l.Addr())
	}
	if _, err := mx.Dial(ctx, hosts[:2], port, time.Second); err == nil {
		t.Errorf("Dial(down hosts) = nil error, want one")
	}
	each, errs := mx.DialEach(ctx, hosts, port, time.Second)
	if each[0] != nil || errs[0] == nil || each[1] != nil || each[2] == nil {
		t.Errorf("DialEach = %v, %v; want only the third reachable", each, errs)
	}
}

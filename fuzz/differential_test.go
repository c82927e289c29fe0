package fuzz

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// FuzzDifferential sends the same script to two servers and compares the
// replies. With $SMTPSPEC_FUZZ_TARGET set (and the other FuzzRemote
// variables) the two are the in-process reference and that server, both
// spoken to in lockstep; otherwise they are two client behaviours against
// the reference: lockstep, and the very same octets pipelined in one write,
// which RFC 2920 says must not change any reply. The input is FuzzRemote's.
//
// The first difference decides (after it the two sessions may be in
// different states): see classify for what counts as a real disagreement
// and what is site policy (550 vs 554, a recipient one server takes and the
// other refuses, an extension one of them lacks).
func FuzzDifferential(f *testing.F) {
	for _, s := range sampled(remoteSeeds(f), 8) {
		f.Add(s)
	}
	cfg, err := remoteConfigFromEnv()
	if err != nil {
		f.Fatal(err)
	}
	cfg.name = "FuzzDifferential"
	var ext *remoteFuzzer
	if cfg.addr != "" {
		ext = newRemoteFuzzer(cfg)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		var diff *difference
		if ext != nil {
			diff = diffExternal(ext, in)
		} else {
			diff = diffPipelined(in)
		}
		if diff != nil && diff.real() {
			path := writeFinding(t, "FuzzDifferential", diff.class, in, joinedWrites(diff.script.Writes), diff.script, harness.ScriptCase{
				Group: "fuzz/differential", ID: diff.class + "-finding",
				Title:       "FuzzDifferential finding (" + diff.class + "): " + diff.String(),
				Requirement: diff.requirement,
				Spec:        []string{"RFC 5321 §4.2", "RFC 2920 §3"},
				Tags:        []string{"fuzz"},
				Comment:     []string{"Found by FuzzDifferential; the expected codes are " + diff.aName + "'s.", diff.String()},
			})
			t.Fatalf("%s\n%s:\n%s%s:\n%sfinding written to %s", diff, diff.aName, diff.aLog, diff.bName, diff.bLog, path)
		}
	})
}

// A difference is the first place where two dialogues part.
type difference struct {
	class        string // disagreement, count, minor, policy, unimplemented, closing
	i            int    // index of the reply
	verb         string
	a, b         int // the codes (0: no reply)
	aName, bName string
	aLog, bLog   string
	script       *harness.Script // b's writes with a's codes: fails against b, passes against a
	requirement  string
}

func (d *difference) String() string {
	return fmt.Sprintf("%s at reply %d (to %s): %s %s, %s %s", d.class, d.i+1, verbName(d.verb), d.aName, codeName(d.a), d.bName, codeName(d.b))
}

func verbName(v string) string {
	if v == "" {
		return "the greeting or message text"
	}
	return v
}

func codeName(c int) string {
	if c == 0 {
		return "no reply"
	}
	return fmt.Sprint(c)
}

// real reports whether the difference is a finding.
func (d *difference) real() bool { return d.class == "disagreement" || d.class == "count" }

// policyVerbs are the commands whose acceptance is site policy: addresses,
// names, credentials, message content.
var policyVerbs = []string{"MAIL", "RCPT", "VRFY", "EXPN", "HELO", "EHLO", "AUTH", "SASL", "", "BDAT", "HELP"}

// mandatoryVerbs are the commands every server implements (RFC 5321 §4.5.1).
var mandatoryVerbs = []string{"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT"}

// classify names the first difference between code sequences a and b.
//
//   - policy: the same class and reply group (550/551/552/553/554;
//     450/451/452; 500/501/502/504), a 4yz against a 5yz, or acceptance
//     against refusal of a command whose outcome is site policy
//     (policyVerbs);
//   - unimplemented: one side answers 500, 502, 504 or 555 (an extension
//     or parameter it lacks) where the other accepts, for a command that
//     RFC 5321 §4.5.1 does not make mandatory;
//   - closing: one side closed the session with 421;
//   - minor: the same class otherwise (503 against 501, 250 against 251);
//   - disagreement: any other difference in class (250 against 500 for
//     NOOP; 354 against 503 for DATA after the same accepted commands);
//   - count: one side gave fewer replies without closing with 421.
func classify(a, b []int, verbs []string) *difference {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a) || i >= len(b):
			d := &difference{i: i, class: "count"}
			if i < len(a) {
				d.a = a[i]
			}
			if i < len(b) {
				d.b = b[i]
			}
			if d.a == 421 || d.b == 421 || i > 0 && (a[i-1] == 421 || b[i-1] == 421 || a[i-1] == 221 && b[i-1] == 221) {
				d.class = "closing"
			}
			if i < len(verbs) {
				d.verb = verbs[i]
			}
			return d
		case a[i] == b[i]:
			continue
		}
		d := &difference{i: i, a: a[i], b: b[i], verb: verbs[min(i, len(verbs)-1)]}
		ca, cb := a[i]/100, b[i]/100
		group := func(c int) int {
			switch {
			case c >= 550 && c <= 554:
				return 1
			case c >= 450 && c <= 452:
				return 2
			case c == 500 || c == 501 || c == 502 || c == 504:
				return 3
			}
			return 0
		}
		unimpl := func(c int) bool { return c == 500 || c == 502 || c == 504 || c == 555 }
		switch {
		case a[i] == 421 || b[i] == 421:
			d.class = "closing"
		case ca == cb && group(a[i]) != 0 && group(a[i]) == group(b[i]):
			d.class = "policy"
		case ca >= 4 && cb >= 4 && ca != cb:
			d.class = "policy"
		case (unimpl(a[i]) && cb <= 3 || unimpl(b[i]) && ca <= 3) && !slices.Contains(mandatoryVerbs, d.verb):
			d.class = "unimplemented"
		case slices.Contains(policyVerbs, d.verb):
			d.class = "policy"
		case ca == cb:
			d.class = "minor"
		default:
			d.class = "disagreement"
		}
		return d
	}
	return nil
}

// diffPipelined compares lockstep with pipelined against the reference.
func diffPipelined(in []byte) *difference {
	v := variant(0)
	lock := referenceDialogue(v, in)
	var octets []byte
	cut := len(lock.writes)
	for i, w := range lock.writes {
		if w.TLS {
			cut = i
			break
		}
		octets = append(octets, w.Data...)
	}
	owed := 0
	for _, w := range lock.writes[:cut] {
		owed += len(w.Expect)
	}
	if lock.failure != nil && lock.failure.class != "count" || lock.start == harness.StartTLS || lock.start == harness.StartAuth {
		return nil // no clean lockstep baseline (FuzzSession judges such inputs)
	}
	pipe := pipelinedCodes(v, lock.start, octets, owed)
	a := lock.codes[:min(len(lock.codes), owed)]
	if lock.start != harness.StartConnect {
		// lock.codes includes the preset's replies; pipelined replays them too.
		a = lock.codes[:min(len(lock.codes), owed+presetReplies(lock.start))]
	}
	d := classify(a, pipe.codes, lock.verbs)
	if d == nil {
		return nil
	}
	if d.class != "count" {
		d.class = "disagreement" // the same server: any difference is real
	}
	d.aName, d.bName, d.aLog, d.bLog = "lockstep", "pipelined", lock.transcript(), pipe.log
	d.requirement = "Pipelining commands (RFC 2920) changes no reply: the same octets get the same replies in one write as one command at a time."
	s := &harness.Script{Start: lock.start, Writes: []harness.ScriptWrite{{Data: octets}}}
	if lock.start == harness.StartConnect {
		s.Writes = append([]harness.ScriptWrite{{Expect: []harness.ScriptReply{{Codes: []int{220}}}}}, s.Writes...)
		a = a[1:]
	} else {
		a = a[presetReplies(lock.start):]
	}
	for _, c := range a {
		s.Writes[len(s.Writes)-1].Expect = append(s.Writes[len(s.Writes)-1].Expect, harness.ScriptReply{Codes: []int{c}})
	}
	d.script = s
	return d
}

// presetReplies is the number of replies a start preset reads after the
// greeting (plain presets only).
func presetReplies(s harness.Start) int {
	return map[harness.Start]int{harness.StartHelo: 2, harness.StartEhlo: 2, harness.StartMail: 3, harness.StartRcpt: 4}[s]
}

// referenceDialogue runs a lockstep dialogue with a reference session over
// net.Pipe.
func referenceDialogue(v *sessionVariant, in []byte) *dialogue {
	cfg := referenceRemoteConfig()
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.srv.ServeConn(server)
	}()
	d := &dialogue{cfg: &cfg, chunking: true, start: startOf(in), conn: client, rr: harness.NewReplyReader(client)}
	d.play(in)
	client.Close()
	<-done
	return d
}

func referenceRemoteConfig() remoteConfig {
	_, ct := tlsConfigs()
	p := harness.DefaultProfile()
	p.AuthUser, p.AuthPass = authUser, authPass
	return remoteConfig{addr: "reference", profile: p, timeout: replyTimeout, tls: ct, name: "reference"}
}

type pipelined struct {
	codes  []int
	closed bool
	log    string
}

// pipelinedCodes sends the preset and the octets in one write each and
// reads up to want replies.
func pipelinedCodes(v *sessionVariant, start harness.Start, octets []byte, want int) pipelined {
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.srv.ServeConn(server)
	}()
	defer func() { client.Close(); <-done }()
	p := harness.DefaultProfile()
	var pre string
	switch start {
	case harness.StartHelo:
		pre = "HELO " + p.Helo + "\r\n"
	case harness.StartEhlo:
		pre = "EHLO " + p.Helo + "\r\n"
	case harness.StartMail:
		pre = "EHLO " + p.Helo + "\r\nMAIL FROM:<" + p.MailFrom + ">\r\n"
	case harness.StartRcpt:
		pre = "EHLO " + p.Helo + "\r\nMAIL FROM:<" + p.MailFrom + ">\r\nRCPT TO:<" + p.Rcpt + ">\r\n"
	}
	all := append([]byte(pre), octets...)
	want += presetReplies(start)
	go func() { client.Write(all) }()
	var out pipelined
	var log strings.Builder
	fmt.Fprintf(&log, "C: %q\n", short(string(all)))
	rr := harness.NewReplyReader(client)
	for len(out.codes) < want+1 {
		client.SetReadDeadline(time.Now().Add(replyTimeout))
		r, err := rr.ReadReply()
		if err != nil {
			out.closed = true
			break
		}
		fmt.Fprintf(&log, "S: %q\n", r.Raw)
		out.codes = append(out.codes, r.Code)
		if len(out.codes) == want {
			break
		}
	}
	out.log = log.String()
	return out
}

// diffExternal compares the reference with the external server.
func diffExternal(ext *remoteFuzzer, in []byte) *difference {
	ref := referenceDialogue(variant(0), in)
	other := ext.run(in)
	if other.dialErr != nil {
		return nil
	}
	d := classify(ref.codes, other.codes, ref.verbs)
	if d == nil {
		return nil
	}
	d.aName, d.bName, d.aLog, d.bLog = "reference", ext.cfg.addr, ref.transcript(), other.transcript()
	d.requirement = "The server answers as the reference does, up to site policy."
	// b's writes, each expecting a's codes up to the difference.
	s := &harness.Script{Start: other.start}
	k := 0
	if other.start != harness.StartConnect {
		k = presetReplies(other.start)
	}
	for _, w := range other.writes {
		nw := harness.ScriptWrite{Data: bytes.Clone(w.Data), TLS: w.TLS}
		for range w.Expect {
			if k <= d.i && k < len(ref.codes) {
				nw.Expect = append(nw.Expect, harness.ScriptReply{Codes: []int{ref.codes[k]}})
			}
			k++
		}
		s.Writes = append(s.Writes, nw)
		if k > d.i {
			break
		}
	}
	d.script = s
	return d
}

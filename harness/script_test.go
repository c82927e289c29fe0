package harness

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestScript_roundTrip checks that CaseFile writes a case that loads and
// that ScriptOf turns back into the very octets it was made from.
func TestScript_roundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	writes := [][]byte{
		[]byte("EHLO x\r\n"),
		[]byte("body\n.\nMAIL FROM:<a@b>\r\n$${x}\"\\\x00\x7f\xc3\xa9\xff"),
		all,
	}
	for range 20 {
		w := make([]byte, 1+rng.IntN(64))
		for i := range w {
			w[i] = byte(rng.UintN(256))
		}
		writes = append(writes, w)
	}
	s := &Script{Start: StartEhlo}
	for i, w := range writes {
		sw := ScriptWrite{Data: w}
		if i%3 == 0 {
			sw.Expect = []ScriptReply{{Codes: []int{250, 251}}, {}}
		}
		s.Writes = append(s.Writes, sw)
	}
	s.Writes = append(s.Writes, ScriptWrite{Data: []byte("QUIT\r\n"), Expect: []ScriptReply{{Codes: []int{221}, Closed: true}}})
	file := s.CaseFile(ScriptCase{
		Group: "fuzz/test", ID: "round-trip", Title: `a "title"`, Requirement: "Octets survive.",
		Spec: []string{"RFC 5321 §4.1"}, Comment: []string{"found by a test", ""},
	})
	cases, errs := ParseFile("round-trip.yaml", file)
	if len(errs) > 0 {
		t.Fatalf("ParseFile: %v\n%s", errs, file)
	}
	if len(cases) != 1 || cases[0].ID != "fuzz/test/round-trip" || cases[0].Quit {
		t.Fatalf("ParseFile = %+v, want one case fuzz/test/round-trip with quit false", cases)
	}
	got, err := ScriptOf(cases[0], DefaultProfile(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != StartEhlo || len(got.Writes) != len(s.Writes) {
		t.Fatalf("ScriptOf: start %s, %d writes; want ehlo, %d", got.Start, len(got.Writes), len(s.Writes))
	}
	for i := range s.Writes {
		if !bytes.Equal(got.Writes[i].Data, s.Writes[i].Data) {
			t.Errorf("write %d = %q, want %q", i, got.Writes[i].Data, s.Writes[i].Data)
		}
	}
	st := cases[0].Steps[0]
	if len(st.Expect) != 2 || len(st.Expect[0].Code) != 2 || !st.Expect[1].Any {
		t.Errorf("step 1 expect = %+v, want [{code: [250, 251]}, {any: true}]", st.Expect)
	}
}

// TestScriptOf_catalogue expands every built-in case.
func TestScriptOf_catalogue(t *testing.T) {
	cat, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultProfile()
	p.AuthUser, p.AuthPass = "u", "p"
	p.Domain, p.UnknownRcpt = "example.test", "nosuch@example.test"
	info := &TargetInfo{EHLO: []string{"SIZE 1000"}}
	for _, c := range cat.Cases {
		if _, err := ScriptOf(c, p, info); err != nil {
			t.Errorf("ScriptOf(%s): %v", c.ID, err)
		}
	}
}

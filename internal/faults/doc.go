// Package faults is a deliberately broken SMTP server for smtpspec's own
// tests: it proves that every MUST and SHOULD case in the catalogue can
// fail.
//
// A Proxy listens on 127.0.0.1 in front of a fresh reference server and
// passes the dialogue through one command at a time, which lets a Fault
// misbehave the way real servers do:
//
//   - read the client's bytes with a lax line reader (a bare LF, a bare CR
//     or a NUL ends a line, CRs before LF collapse, lines are cut after N
//     octets), which turns the smuggling and framing probes into real
//     attacks on the reference behind it;
//   - rewrite, drop, duplicate or invent replies, per command and state
//     (503 becomes 250, enhanced codes vanish, STARTTLS is advertised
//     inside TLS, QUIT leaves the connection open);
//   - send hidden commands to the reference (replay a transaction after
//     STARTTLS, store a message twice) whose replies the client never sees;
//   - change message text on its way (keep stuffed dots, strip 8-bit or
//     NUL octets, add an empty line before the final dot).
//
// The proxy terminates STARTTLS itself: it speaks TLS to the client with
// the certificate the harness trusts and TLS to the reference, so that
// faults see plaintext inside TLS too.
//
// With no fault (Identity) the proxy is transparent: the whole catalogue
// passes through it exactly as against the reference. The tests check
// that, and that each MUST and SHOULD case fails under the fault named for
// it in the table of faults_test.go.
package faults

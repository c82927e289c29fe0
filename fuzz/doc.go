// Package fuzz holds smtpspec's native Go fuzz targets; it has no code
// outside its tests.
//
//   - FuzzReplyParser: the harness's strict reply parser.
//   - FuzzCommandParser: the reference server's command and argument parsers.
//   - FuzzSession: the reference in-process (run synchronously on the
//     script, or over net.Pipe around STARTTLS handshakes), every reply judged
//     by an independent model of the RFC 5321 session.
//   - FuzzData: DATA and BDAT transparency against the reference's store.
//   - FuzzRemote: any SMTP server at $SMTPSPEC_FUZZ_TARGET (crash, hang,
//     malformed reply and reply-count oracles; package feedback turns the
//     server's reply codes into coverage).
//   - FuzzDifferential: the same script to two servers, differences
//     classified.
//
// The dialogue targets share a token language that emulates a dictionary,
// seed from the YAML catalogue and from go-fuzz-corpus at test time, and
// write every finding as a case file that `smtpspec run --cases DIR`
// replays. README.md in this directory describes the targets, the loop from
// finding to regression case, and the OSS-Fuzz / ClusterFuzzLite build.
package fuzz

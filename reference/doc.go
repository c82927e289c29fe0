// Package reference is smtpspec's bundled SMTP server: the default target of
// "smtpspec run", the oracle for differential runs and fuzzing, and a
// readable example of what RFC 5321 and its extensions ask of a server. It
// is strict: where an RFC names a reply code, it uses that code.
//
// It implements RFC 5321 with PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034, RFC 3463), SMTPUTF8
// (RFC 6531), STARTTLS (RFC 3207), AUTH PLAIN and LOGIN (RFC 4954),
// CHUNKING and BINARYMIME (RFC 3030) and DSN parameters (RFC 3461). Delivery
// goes through a Backend; MemoryStore and Maildir are built in.
//
// # Framing
//
// Only CRLF ends a command line or a data line. A bare CR or LF is line
// content: one write of "NOOP\nNOOP\r\n" is one (unknown) command. Command
// lines longer than 512 octets (12290 for AUTH and SASL responses) get 500
// once the whole line, up to its CRLF, has been read and dropped; input is
// never buffered beyond those limits.
//
// # Message data
//
// Only CRLF "." CRLF ends DATA, also right after the 354 (an empty
// message). Lines starting with "." lose that dot. The reference rejects
// rather than normalises: a message with a bare CR or LF gets 554 5.6.0, one
// with a line over 1000 octets (CRLF included) 500 5.5.2, one over the SIZE
// limit 552 5.3.4, always after the real end of data, which is still looked
// for by the same scanner, so no SMTP smuggling variant (LF "." LF, CR "."
// CR, LF "." CRLF, "." CR CR LF, NUL next to the dot...) ends the data or
// lets the rest run as commands. NUL and 8-bit octets are data. A backend
// sees the exact un-stuffed octets the client sent; the Return-Path and
// Received fields that delivery prepends are kept apart (Message.ReturnPath,
// Message.Received; Maildir writes them at the top of the file).
//
// # Choices where the RFCs leave room
//
//   - EXPN is not implemented (502 5.5.1) and not advertised; VRFY always
//     answers 252 2.5.0 (RFC 5321 §7.3).
//   - STARTTLS inside a mail transaction is refused with 503 5.5.1; after a
//     handshake the session starts afresh (no EHLO, no AUTH, no
//     transaction) and all plaintext input pipelined after STARTTLS is
//     dropped (CVE-2011-0411).
//   - AUTH is offered and accepted only under TLS unless
//     Config.AllowInsecureAuth; otherwise AUTH gets 530 5.7.0. Failed AUTH
//     attempts never close the session; only Config.MaxErrors does.
//   - DATA without an accepted recipient gets 503 5.5.1.
//   - Extensions are for EHLO sessions: after HELO, MAIL and RCPT
//     parameters get 555 5.5.4 and BDAT and AUTH 503 5.5.1; AUTH= on MAIL
//     gets 555 when the session was not offered AUTH (plaintext without
//     Config.AllowInsecureAuth).
//   - Trailing white space after a command is ignored, also a tab right
//     after a verb without arguments ("NOOP\t").
//   - A connection accepted on a TLS listener (implicit TLS, RFC 8314)
//     completes its handshake before the greeting and never offers
//     STARTTLS.
//   - The default SIZE limit is 10 MiB (DefaultMaxMessageSize), the default
//     recipient limit the RFC minimum of 100, then 452 4.5.3.
//   - Relaying: RCPT is accepted for the configured local domains, the
//     Hostname and the local IP literal, plus <Postmaster>; other domains
//     get 550 5.7.1 unless the session is authenticated. Nothing is ever
//     relayed: a source route is ignored (the final mailbox decides) and %
//     or ! in a local part has no routing meaning.
//   - Replies are written when the input buffer runs dry (RFC 2920 §3.2),
//     so a pipelined batch gets its replies in one write.
package reference

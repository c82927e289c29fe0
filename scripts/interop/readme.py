#!/usr/bin/python3
"""Write reports/interop/README.md from the servers' JSON runs.

Every failing case gets an explanation from the RULES table below: a real
deviation of the server (with what documents it), a consequence of the
configuration the interop run uses, or a problem of the case itself. A
failure no rule covers is listed as "not yet explained", so that a re-run
after the catalogue grows shows what still needs a look.

Usage: scripts/interop/readme.py [REPORT_DIR]   (default reports/interop)
"""

import json
import os
import re
import sys

SERVERS = [
    ("postfix", "Postfix 3.7.11", "Debian 12 `postfix`"),
    ("exim", "Exim 4.96", "Debian 12 `exim4-daemon-light`"),
    ("opensmtpd", "OpenSMTPD 6.8.0p2", "Debian 11 `opensmtpd` (with `libssl1.1`)"),
    ("aiosmtpd", "aiosmtpd 1.4.3", "Debian 12 `python3-aiosmtpd`, `aiosmtpd.handlers.Sink`"),
    ("gosmtp", "go-smtp 0.25.1", "`examples/gosmtp` (github.com/emersion/go-smtp)"),
    ("mailpit", "mailpit 1.33.1", "`go install github.com/axllent/mailpit@v1.33.1`"),
]

DEVIATION, CONFIG, CASE = "deviation", "configuration", "case"

# Sources quoted below, as shipped with what the run unpacked or built.
POSTCONF = "postconf(5) of the Debian package"
EXIM_SPEC = "the Exim specification (Debian `exim4-doc-info`, spec.info)"
AIOSMTPD = "aiosmtpd/smtp.py as shipped in Debian's python3-aiosmtpd 1.4.3"
GOSMTP = "go-smtp v0.25.1 source"
MAILPIT = "mailpit v1.33.1 internal/smtpd/smtpd.go"
REQS = "the deviation table of the requirements catalogue"

# (servers regex, case ID regex, kind, explanation). The first match wins.
RULES = [
    # --- problems of the cases, reported to the catalogue ----------------
    (".", r"^rfc5321/4\.3\.2/other-command-codes$", CASE,
     "The case does not accept 500 for HELP or VRFY, but RFC 5321 §4.3.2 allows 500 "
     "(command not recognized) and 501 for any command besides the listed codes.", r'got "500 '),
    (".", r"^(rfc2034/4/every-line-carries-code|rfc5321/4\.2/multiline-same-code)$", CASE,
     "The case needs a multi-line reply and asks HELP for one; a server without HELP (or that "
     "refuses a second EHLO) gives none, and the case then fails on what it is not about. "
     "It should take its multi-line reply from EHLO right after the greeting.", r'got "(500|503) |no outcome matches 500'),
    ("gosmtp", r"^(security/(smuggling|long-lines)/|rfc2920/3\.2/replies-not-held-back)", CASE,
     "The outcomes expect 500 or 502 for the sentinel command (`XSMTPSPEC…`) sent after the "
     "test octets; go-smtp answers 501 to any verb that is not four letters long "
     f"(parse.go `parseCmd`, {GOSMTP}), so no outcome matches although the message was "
     "absorbed. The sentinel's code does not matter to these cases: they should accept any 5yz."),
    ("opensmtpd", r"^(rfc1870/6/(declared-size-not-end-of-data|size-parameter-only-if-advertised)|"
     r"rfc3461/5/parameters-only-if-advertised|"
     r"rfc5321/3\.5/expn-works-only-if-advertised|rfc5321/4\.1\.1\.10/quit-with-argument|"
     r"rfc5321/4\.5\.2/double-dot-line-one-reply|rfc5321/4\.5\.3\.1/text-line-1000-one-reply|"
     r"security/nul/nul-in-data-one-reply|security/bare-cr-lf/(bare-cr|bare-lf)-in-body-one-reply|"
     r"rfc5321/4\.1\.1/empty-line)$", CASE,
     "The case writes a command before it has read the previous reply (a step without "
     "`expect`, or a NOOP sent in the same write as the end of the data) although OpenSMTPD "
     "does not advertise PIPELINING; OpenSMTPD enforces that with \"500 5.5.1 Invalid "
     "command: Pipelining not supported\" (and closes). The case should read each reply "
     "first, or require PIPELINING."),
    ("opensmtpd", r"^(rfc5321/3\.1/early-talker|rfc2920/3\.1/unadvertised-pipelining-in-order|"
     r"security/starttls/injected-.*|security/nul/nul-in-command)$", CASE,
     "OpenSMTPD refuses the pipelined or malformed input with 500 (\"Pipelining not "
     "supported\" or \"Invalid command\") and closes the connection: a safe answer that the "
     "case's outcomes do not list, so it fails as \"no outcome matches\". The outcomes "
     "should include \"500, then closed\" (pass or non-strict)."),
    ("postfix", r"^rfc3030/2/bdat-without-recipient$", CASE,
     "Postfix consumes the chunk, refuses BDAT LAST with 554 and ends the transaction, so "
     "the case's next RCPT gets 503. RFC 3030 §2 tells the client to treat the transaction "
     "as failed after a refused BDAT; the case's expectation that MAIL is still in effect "
     "is questionable."),
    ("aiosmtpd", r"^rfc4954/6/no-538-for-offered-mechanism$", CASE,
     "aiosmtpd offers AUTH only after STARTTLS, and answers AUTH in plaintext with "
     "\"538 5.7.11 Encryption required\" (" + AIOSMTPD + "), which is what RFC 4954 §6 "
     "defines 538 for; the mechanism was not offered in that state, so the case should "
     "not apply."),

    # --- Postfix -----------------------------------------------------------
    ("postfix", r"^(rfc5321/4\.1\.4/mail-before-ehlo|rfc3207/4\.2/ehlo-needed-again)$", CONFIG,
     f"Postfix's default `smtpd_helo_required = no` ({POSTCONF}) accepts MAIL without "
     "HELO/EHLO (also after STARTTLS). Set it to `yes` to conform."),
    ("postfix", r"^(rfc5321/4\.1\.1/path-without-brackets|rfc5321/4\.1\.4/bad-mail-keeps-state|"
     r"rfc5321/4\.1\.1\.2/control-character-in-sender|rfc2920/3\.2/error-does-not-flush-input)$", CONFIG,
     f"Postfix's default `strict_rfc821_envelopes = no` ({POSTCONF}: \"By default, the "
     "Postfix SMTP server accepts RFC 822 syntax in MAIL FROM and RCPT TO addresses\") "
     "takes addresses without angle brackets and with RFC 822 oddities."),
    ("postfix", r"^rfc5321/2\.4/non-ascii-mailbox-refused$", CONFIG,
     f"Postfix's default `strict_smtputf8 = no` ({POSTCONF}) accepts UTF-8 addresses "
     "without the SMTPUTF8 parameter."),
    ("postfix", r"^(rfc5321/2\.3\.8/bare-lf-does-not-end-command|security/bare-cr-lf/lf-only-message|"
     r"security/smuggling/.*)$", DEVIATION,
     f"Bare LF ends a line (and `<LF>.<LF>` the data) with `smtpd_forbid_bare_newline = no`, "
     f"the default before Postfix 3.9 ({POSTCONF}: such line endings \"violate RFC 5321, and "
     "allowing such line endings can make a server vulnerable to SMTP smuggling\"). The "
     "smuggling outcomes are real: set `smtpd_forbid_bare_newline = normalize` (available "
     "since 3.7.9)."),
    ("postfix", r"^rfc5321/(3\.5/help-|4\.1\.4/help-before-ehlo)", DEVIATION,
     "Postfix does not implement HELP and answers \"500 5.5.2 Error: command not "
     "recognized\" (RFC 5321 §4.1.1.8: HELP SHOULD be supported)."),
    ("postfix", r"^rfc3030/2/(bdat-size-not-a-number|bdat-unknown-option|bdat-without-size)$", DEVIATION,
     "A malformed BDAT gets \"521 5.5.4 Syntax: BDAT count [LAST]\" and the connection is "
     "closed: Postfix cannot know how many octets follow, so it gives up on the session "
     "rather than answering 501."),
    ("postfix", r"^rfc3030/2/chunks-after-failure-discarded$", DEVIATION,
     "Chunks after a failed one are refused with \"551 5.0.0 Discarded N bytes after "
     "earlier error\": 551 means \"user not local\" in RFC 5321, not a refused chunk."),
    ("postfix", r"^rfc5321/4\.5\.3\.1/reply-lines-512$", DEVIATION,
     "The reply to a long VRFY echoes the address and exceeds the 512-octet reply line "
     "limit of RFC 5321 §4.5.3.1.5."),
    ("postfix", r"^security/nul/nul-in-recipient$", DEVIATION,
     "A NUL inside the RCPT line is not refused: the command is answered \"250 2.1.5 Ok\", "
     "so Postfix took some recipient from a line no two parsers read alike."),
    ("postfix", r"^(rfc1870/6/size-given-twice|rfc3461/4/envid-too-long)$", DEVIATION,
     "Parameter validation: a repeated SIZE and an ENVID over RFC 3461's 100 characters "
     "are accepted."),

    # --- Exim --------------------------------------------------------------
    ("exim", r"^(rfc5321/2\.3\.8/bare-lf-does-not-end-command|security/bare-cr-lf/lf-only-message)$", DEVIATION,
     f"Exim treats a bare LF as a line ending in commands and data ({EXIM_SPEC}, §48.2 "
     "\"Line endings\": \"LF not preceded by CR is treated as a line ending\"), so "
     "`<LF>.<LF>` ends the message; the `<CR><LF>.<CR><LF>` that follows then draws "
     "\"554 SMTP synchronization error\"."),
    ("exim", r"^rfc5321/3\.8/no-close-on-unknown-commands$", CONFIG,
     f"`smtp_max_unknown_commands` (default 3, {EXIM_SPEC}) drops the connection after the "
     "fourth unknown command; RFC 5321 §3.8 asks servers not to close on errors."),
    ("exim", r"^(rfc5321/4\.1\.1\.2/ipv[46]-literal-sender|security/open-relay/foreign-address-literal)$", CONFIG,
     f"`allow_domain_literals` is false by default ({EXIM_SPEC}): address literals are "
     "refused with 501 \"domain literals not allowed\" (RFC 5321 §4.1.3 lets the "
     "operator refuse them, but the code should be 550/553, not a syntax error)."),
    ("exim", r"^(rfc1870/3/size-(negative|not-a-number)|rfc1870/6/size-given-twice|rfc5321/4\.1\.1/empty-parameter-value)$", DEVIATION,
     "The SIZE value is not checked: SIZE=abc, SIZE= and a repeated SIZE are accepted, "
     "SIZE=-1 draws 552 (too big) instead of 501."),
    ("exim", r"^(rfc1870/6/oversize-refused-after-data|rfc3030/2/chunk-over-size-limit|rfc3030/2/chunks-after-failure-discarded)$", DEVIATION,
     f"`message_size_limit` is applied to the message as Exim stores it, with LF line "
     f"endings ({EXIM_SPEC}, §48.2), so a message a few kilobytes over the advertised SIZE "
     "in CRLF octets (RFC 1870 counts those) is accepted."),
    ("exim", r"^rfc3030/2/bdat-unknown-option$", DEVIATION,
     "An unknown BDAT argument (`BDAT 6 FIRST`) is ignored instead of refused with 501."),
    ("exim", r"^(rfc5321/4\.1\.1\.2/control-character-in-sender|rfc5321/4\.5\.3\.1/reply-lines-512)$", DEVIATION,
     "The 501 reply echoes the client's address verbatim: a control character from the "
     "client ends up in the reply text, and a long address makes the reply line exceed "
     "512 octets (RFC 5321 §4.2 and §4.5.3.1.5)."),
    ("exim", r"^(rfc4954/4/auth-line-20000|security/long-lines/endless-command-line)$", DEVIATION,
     "An over-long command line gets more than one reply: Exim answers the part that fit "
     "its command buffer and then the remainder as further commands (RFC 5321 §4.5.3.1.4 "
     "wants one 500 for the line)."),
    ("exim", r"^rfc5321/2\.4/non-ascii-mailbox-refused$", DEVIATION,
     "UTF-8 addresses are accepted although SMTPUTF8 is not advertised."),
    ("exim", r"^rfc5321/4\.1\.1/path-without-brackets$", DEVIATION,
     "A path without angle brackets is accepted."),
    ("exim", r"^rfc5321/4\.1\.1\.1/ehlo-keywords-registered$", DEVIATION,
     f"Exim advertises PIPECONNECT ({EXIM_SPEC}, `pipelining_connect_advertise_hosts`), "
     "which is neither registered with IANA nor an X- keyword."),

    # --- OpenSMTPD ---------------------------------------------------------
    ("opensmtpd", r"^(rfc5321/4\.1\.1\.1/ehlo-any-case|rfc5321/4\.1\.4/ehlo-resets-transaction|"
     r"rfc5321/4\.1\.4/refused-ehlo-keeps-state|rfc3207/4\.2/no-starttls-inside-tls|"
     r"rfc5321/4\.3\.2/other-command-codes)$", DEVIATION,
     "A second EHLO is refused with \"503 5.5.1 Invalid command: Already identified\" "
     f"(OpenSMTPD #1147 in {REQS}); RFC 5321 §4.1.4 lets a client send EHLO again."),
    ("opensmtpd", r"^rfc5321/4\.1\.4/rset-before-ehlo$", DEVIATION,
     f"RSET before EHLO gets 503 (OpenSMTPD #1149 in {REQS})."),
    ("opensmtpd", r"^(rfc5321/3\.5/vrfy-implemented|rfc2034/3/success-replies-carry-code)$", DEVIATION,
     f"VRFY is not implemented and answered with 500 \"Command unrecognized\" (OpenSMTPD "
     f"#1146 in {REQS}); RFC 5321 §4.5.1 lists VRFY in the minimum implementation."),
    ("opensmtpd", r"^(rfc5321/4\.1\.1/(noop-with-arguments|trailing-space-noop|trailing-tab-noop)|rfc5321/4\.5\.3\.1/command-line-512|"
     r"rfc5321/3\.5/help-with-argument|rfc5321/4\.1\.1\.4/data-with-argument|rfc5321/4\.1\.1\.5/rset-with-argument)$", DEVIATION,
     "Arguments to NOOP, HELP, DATA and RSET (even trailing spaces) draw \"500 5.5.4 "
     "Invalid command arguments: command does not accept arguments\": NOOP's argument "
     "should be ignored (RFC 5321 §4.1.1.9), and a syntax error in an argument is 501."),
    ("opensmtpd", r"^(rfc1870/3/size-.*|rfc1870/6/size-given-twice|rfc5321/4\.1\.1/empty-parameter-value|"
     r"rfc1870/4/declared-size-over-limit|rfc3463/3/too-big-5-3-4)$", DEVIATION,
     "The SIZE parameter is not checked: malformed, repeated and over-limit values are "
     "accepted with 250 (RFC 1870 §4-6)."),
    ("opensmtpd", r"^(rfc3461/.*)$", DEVIATION,
     "DSN parameters are checked loosely: malformed or repeated ENVID, RET, NOTIFY and "
     "ORCPT values are accepted, other errors get 503 or 553 instead of 501 (RFC 3461 §4)."),
    ("opensmtpd", r"^(rfc5321/4\.1\.1/(unknown-parameter-555|unknown-rcpt-parameter-555|parameter-without-keyword)|"
     r"rfc6531/3/parameter-only-if-advertised|"
     r"rfc3463/3/syntax-error-5-5-x|rfc6152/2/body-unknown-value|rfc8689/4/parameter-refused-in-plaintext)$", DEVIATION,
     "An unknown or malformed MAIL/RCPT parameter gets \"503 5.5.4 Invalid command "
     "arguments: Unsupported option\": 503 means bad sequence; RFC 5321 §4.1.1.11 wants "
     "555 (or 501)."),
    ("opensmtpd", r"^(rfc2034/3/error-replies-carry-code|rfc3463/3/(relay-denied-5-7-1|unknown-user-5-1-1))$", DEVIATION,
     "\"550 Invalid recipient\" carries no enhanced status code although "
     f"ENHANCEDSTATUSCODES is advertised (RFC 2034 §3; compare OpenSMTPD PR #925 in {REQS})."),
    ("opensmtpd", r"^(rfc5321/4\.5\.3\.1/message-64k|rfc1870/6/oversize-refused-after-data)$", DEVIATION,
     "A message without a header section is refused with \"550 5.7.1 Delivery not "
     "authorized, message refused: Message is not RFC 2822 compliant\"; RFC 5321 §3.3 "
     "asks servers not to refuse mail for header defects (and an oversized message "
     "should get 552)."),
    ("opensmtpd", r"^rfc5321/4\.1\.1\.1/ehlo-domain-255$", DEVIATION,
     "A 255-octet domain (the maximum of RFC 5321 §4.5.3.1.2) is refused as EHLO "
     "argument: \"Invalid domain name\"."),
    ("opensmtpd", r"^rfc5321/4\.1\.1\.3/quoted-local-part$", DEVIATION,
     "A quoted local part with a space is refused as a syntax error (501 5.1.3)."),
    ("opensmtpd", r"^rfc5321/4\.1\.1\.2/ipv6-literal-without-tag$", DEVIATION,
     "An IPv6 address literal without the `IPv6:` tag is accepted."),
    ("opensmtpd", r"^rfc5321/4\.1\.1/path-without-brackets$", DEVIATION,
     "A path without angle brackets gets 553 5.1.0 instead of the syntax error 501."),
    ("opensmtpd", r"^rfc5321/4\.5\.3\.1/command-line-too-long-one-reply$", DEVIATION,
     "An over-long command line ends the session instead of drawing one 500."),
    ("opensmtpd", r"^security/nul/nul-in-recipient$", DEVIATION,
     "A NUL inside the RCPT line is not refused: the command is answered 250 \"Recipient ok\"."),

    # --- aiosmtpd ----------------------------------------------------------
    ("aiosmtpd", r"^(security/open-relay/.*)$", CONFIG,
     "The Sink handler accepts every recipient: aiosmtpd is a library, and relay policy "
     "belongs to the handler a deployment writes."),
    ("aiosmtpd", r"^rfc5321/4\.1\.1/path-without-brackets|rfc5321/4\.3\.2/mail-codes$", DEVIATION,
     f"A path without angle brackets is accepted (aio-libs/aiosmtpd #563 in {REQS}; "
     f"`_getaddr` falls back to `get_addr_spec`, {AIOSMTPD})."),
    ("aiosmtpd", r"^rfc5321/4\.1\.1\.2/(control-character-in-sender|ipv4-literal-out-of-range|ipv6-literal-without-tag)$", DEVIATION,
     "Addresses are parsed with the e-mail header parser (`email._header_value_parser`), "
     "which accepts control characters and malformed address literals."),
    ("aiosmtpd", r"^(rfc5321/3\.5/help-|rfc5321/4\.1\.1\.1/help-advertised-works|rfc5321/4\.1\.4/help-before-ehlo|rfc5321/4\.2/multiline-same-code|rfc5321/4\.3\.2/other-command-codes)", DEVIATION,
     f"HELP answers with 250 (\"250 Supported commands: …\", `smtp_HELP` in {AIOSMTPD}) "
     "where RFC 5321 §4.1.1.8 gives 211 or 214."),
    ("aiosmtpd", r"^(rfc5321/2\.3\.8/bare-cr-does-not-end-command|rfc5321/4\.2/reply-text-printable|"
     r"rfc5321/4\.5\.3\.1/reply-lines-512|security/nul/nul-in-command)$", DEVIATION,
     f"\"500 Error: command \\\"…\\\" not recognized\" echoes the unknown command verbatim "
     f"({AIOSMTPD}): control characters (CR, NUL, ESC) end up in the reply text and a "
     "long command makes the reply line exceed 512 octets (RFC 5321 §4.2, §4.5.3.1.5)."),
    ("aiosmtpd", r"^rfc5321/2\.3\.8/bare-lf-does-not-end-command$", DEVIATION,
     "A bare LF ends a command line (asyncio's readuntil of LF, with the CR stripped if "
     "present)."),
    ("aiosmtpd", r"^rfc5321/3\.8/no-close-on-unknown-commands$", DEVIATION,
     f"After too many unrecognized commands aiosmtpd answers \"502 5.5.1 Too many "
     f"unrecognized commands, goodbye.\" and closes ({AIOSMTPD})."),
    ("aiosmtpd", r"^rfc3207/4\.2/second-starttls-refused$", DEVIATION,
     f"STARTTLS inside TLS is answered with 220 and a second handshake ({AIOSMTPD}, "
     "`smtp_STARTTLS` does not check whether TLS is already on); RFC 3207 §4.2 wants 503 "
     "or the command not offered."),
    ("aiosmtpd", r"^rfc4954/4/auth-line-4000$", DEVIATION,
     "An AUTH line of 4000 octets draws \"500 Command line too long\" (the limit is 512 "
     "for every command); RFC 4954 §4 raises it to 12288 for AUTH."),
    ("aiosmtpd", r"^rfc4954/5/auth-param-.*$", DEVIATION,
     "The AUTH= parameter of MAIL is refused with 555 although AUTH is advertised (RFC "
     "4954 §5)."),
    ("aiosmtpd", r"^rfc1870/6/size-parameter-only-if-advertised$", DEVIATION,
     "SIZE= is accepted on MAIL although SIZE is not advertised."),
    ("aiosmtpd", r"^rfc5321/4\.1\.1/trailing-tab-noop$", DEVIATION,
     f"A tab right after the verb becomes part of it (\"500 Error: command \\\"NOOP\\t\\\" not "
     f"recognized\"): the command is split at the first space only ({AIOSMTPD}); RFC 5321 "
     "§4.1.1 asks servers to tolerate trailing white space."),

    # --- go-smtp -----------------------------------------------------------
    ("gosmtp", r".*", None, None),  # placeholder, replaced below

    # --- mailpit -----------------------------------------------------------
    ("mailpit", r"^security/smuggling/lf-dot-crlf$", DEVIATION,
     f"`<LF>.<CR><LF>` ends the message: `readData` reads lines up to LF and compares each "
     f"with \".\\r\\n\" ({MAILPIT}), so a line \"body\\n\" followed by \".\\r\\n\" is the end "
     "of data, and the smuggled commands after it run. The same parser accepts bare LF "
     "elsewhere (go-smtp had the same hole, #243)."),
    ("mailpit", r"^rfc5321/2\.3\.8/bare-lf-does-not-end-command$", DEVIATION,
     "A bare LF ends a command line."),
    ("mailpit", r"^(rfc5321/4\.1\.1\.1/(ehlo|helo)-requires-argument|rfc5321/4\.1\.4/refused-ehlo-keeps-state)$", DEVIATION,
     "EHLO and HELO without an argument are answered 250 (\"vm greets \")."),
    ("mailpit", r"^(rfc1870/3/size-negative|rfc1870/6/size-given-twice|rfc5321/4\.1\.1/(parameter-without-keyword|unknown-parameter-555|unknown-rcpt-parameter-555)|"
     r"rfc3463/3/syntax-error-5-5-x|rfc6152/2/body-unknown-value|rfc6531/3/smtputf8-takes-no-value|"
     r"rfc8689/4/parameter-refused-in-plaintext|rfc3461/5/parameters-only-if-advertised)$", DEVIATION,
     "MAIL and RCPT parameters are not validated: unknown, unadvertised, repeated and "
     "malformed parameters are accepted with 250 (RFC 5321 §4.1.1.11 wants 555)."),
    ("mailpit", r"^(rfc5321/4\.1\.1\.3/(postmaster-any-case|postmaster-without-domain|source-route-understood)|"
     r"rfc5321/4\.1\.1\.2/ipv6-literal-sender)$", DEVIATION,
     "\"553 5.1.3 The address is not a valid RFC 5321 address\" for a bare `postmaster` "
     "(which RFC 5321 §4.5.1 requires), for source routes (§4.1.1.3 says to accept and "
     "ignore them) and for IPv6 address literals."),
    ("mailpit", r"^rfc5321/4\.1\.1\.2/ipv6-literal-without-tag$", DEVIATION,
     "An IPv6 literal without the `IPv6:` tag is accepted."),
    ("mailpit", r"^(rfc5321/4\.3\.2/mail-codes)$", DEVIATION,
     f"A second MAIL inside a transaction is accepted (axllent/mailpit #623 in {REQS})."),
    ("mailpit", r"^rfc3207/4\.2/ehlo-needed-again$", DEVIATION,
     f"MAIL is accepted without a new EHLO after STARTTLS (and before any EHLO: "
     f"axllent/mailpit #621 in {REQS})."),
    ("mailpit", r"^rfc5321/4\.1\.1\.4/data-with-argument$", DEVIATION,
     "`DATA now` starts the data (354) instead of a 501 syntax error."),
    ("mailpit", r"^(rfc5321/2\.4/non-ascii-mailbox-refused|rfc6531/3/utf8-recipient-without-parameter)$", DEVIATION,
     "UTF-8 addresses are accepted without the SMTPUTF8 parameter."),
    ("mailpit", r"^rfc5321/4\.5\.3\.1/message-64k$", DEVIATION,
     f"A message without a header section is refused with \"451 4.3.5 Unable to process "
     f"mail\": mailpit parses every message as MIME (axllent/mailpit #87 in {REQS})."),
    ("mailpit", r"^(rfc4954/4/auth-before-ehlo)$", CONFIG,
     "AUTH is not configured in this run, and mailpit answers it with 502 before and "
     "after EHLO; the case wants 503 before EHLO."),
    ("mailpit", r"^(rfc2034/3/success-replies-carry-code)$", DEVIATION,
     "VRFY is not implemented (502 5.5.1); RFC 5321 §4.5.1 lists it in the minimum "
     "implementation."),
    ("mailpit", r"^rfc3463/3/relay-denied-5-7-1$", DEVIATION,
     "A recipient outside the allowed domain gets 550 5.1.0 \"mailbox unavailable\"; a "
     "relay refusal is 5.7.1 (RFC 3463)."),
]

GOSMTP_RULES = [
    (r"^(rfc5321/3\.3/(rcpt-without-mail|data-without-mail|data-without-rcpt|commands-after-refused-data|buffers-cleared-after-data)|"
     r"rfc5321/4\.1\.4/(mail-before-ehlo|bad-mail-keeps-state|ehlo-resets-transaction)|rfc5321/4\.1\.1\.5/rset-clears-transaction|"
     r"rfc5321/4\.3\.2/data-codes|rfc1870/.*|rfc2920/3\.2/errors-mid-group|rfc3030/.*|rfc3463/2/class-matches-reply|"
     r"rfc3463/3/bad-sequence-5-5-1|rfc4954/4/auth-before-ehlo|rfc6152/2/body-unknown-value|security/open-relay/foreign-recipient-refused)$",
     DEVIATION,
     f"Commands out of sequence get 502 (\"Missing MAIL FROM command.\", \"Please introduce "
     f"yourself first.\", conn.go, {GOSMTP}) where RFC 5321 §4.1.4 wants 503 "
     f"(DEV-gosmtp-src-codes in {REQS}).", r'got "502 '),
    (r"^rfc3030/2/bdat-unknown-option$", DEVIATION,
     f"A refused BDAT does not consume its chunk, so the chunk's octets are read as "
     f"commands (emersion/go-smtp #315, DEV-gosmtp-315 in {REQS}): the trailing QUIT "
     "gets the reply to the NOOP inside the chunk."),
    (r"^rfc1870/6/size-given-twice$", DEVIATION, "A repeated SIZE parameter is accepted."),
    (r"^(rfc5321/3\.8/(unknown-command-500|no-close-on-unknown-commands)|rfc5321/4\.2/reply-code-grammar|rfc5321/4\.2\.4/private-command-500|"
     r"rfc2034/3/error-replies-carry-code|rfc3463/2/code-syntax|rfc3463/3/syntax-error-5-5-x)$", DEVIATION,
     f"Unknown commands whose verb is not four letters long get \"501 5.5.2 Bad command\" "
     f"(parse.go `parseCmd`, {GOSMTP}); RFC 5321 §4.2.4 wants 500."),
    (r"^(rfc5321/4\.1\.1/(parameter-without-keyword|unknown-parameter-555|unknown-rcpt-parameter-555)|rfc8689/4/parameter-refused-in-plaintext)$", DEVIATION,
     f"Unknown or malformed MAIL/RCPT parameters get 500 or 504 (\"Unknown MAIL FROM "
     f"argument\") instead of 555 (DEV-gosmtp-src-codes in {REQS})."),
    (r"^(rfc5321/4\.1\.1\.3/postmaster-(any-case|without-domain)|rfc5321/4\.5\.3\.1/(hundred-recipients|recipient-101-temporary)|rfc3463/3/too-many-recipients-4-5-3)$", DEVIATION,
     "`RCPT TO:<Postmaster>` without a domain is a syntax error for go-smtp (\"501 5.5.2 "
     "Was expecting RCPT arg syntax of TO:<address>\"); RFC 5321 §4.5.1 requires it."),
    (r"^rfc5321/4\.1\.4/(nested-mail|bad-sequence-keeps-transaction)$|^rfc5321/4\.3\.2/mail-codes$", DEVIATION,
     f"A second MAIL inside a transaction is accepted (no nested-MAIL check, "
     f"DEV-gosmtp-src-framing in {REQS})."),
    (r"^(rfc5321/2\.3\.8/bare-lf-does-not-end-command)$", DEVIATION,
     f"Commands are read with net/textproto, which accepts a bare LF as line end "
     f"(DEV-gosmtp-src-framing in {REQS})."),
    (r"^(rfc4954/6/no-538-for-offered-mechanism|rfc5321/4\.2/known-codes-only)$", DEVIATION,
     f"AUTH without TLS gets \"523 5.7.10 TLS is required\" (conn.go, {GOSMTP}); 523 is no "
     "reply code of RFC 5321 or RFC 4954 (538 is)."),
    (r"^(rfc5321/4\.1\.1/path-without-brackets|rfc5321/4\.1\.1\.2/.*|rfc5321/2\.4/non-ascii-mailbox-refused|"
     r"rfc6531/3/.*|rfc3461/.*)$", DEVIATION,
     "Paths and parameters are checked loosely: a path without brackets, malformed "
     "address literals, UTF-8 without SMTPUTF8, repeated or over-long DSN parameters and "
     "SMTPUTF8=value are accepted (a control character is even echoed into the reply)."),
    (r"^(rfc5321/4\.5\.3\.1/(command-line-too-long-one-reply|overlong-text-line-answered-at-end)|security/long-lines/.*)$", DEVIATION,
     f"An over-long line (command or text) ends the session with \"500 5.4.0 Too long "
     f"line, closing connection\" (DEV-gosmtp-src-framing in {REQS})."),
    (r"^rfc5321/4\.1\.1/trailing-tab-noop$", DEVIATION,
     f"A tab right after the verb makes \"NOOP<TAB>\" an unknown five-letter verb, answered "
     f"501 (parse.go `parseCmd` splits at the first space, {GOSMTP}); RFC 5321 §4.1.1 asks "
     "servers to tolerate trailing white space."),
]


def explain(server, case_id, message=""):
    """Returns the kind and explanation of a failing case. A rule may end
    with a regular expression the failure message must match too."""
    if server == "gosmtp":
        for rule in GOSMTP_RULES:
            rx, kind, text = rule[:3]
            if re.search(rx, case_id) and (len(rule) < 4 or re.search(rule[3], message)):
                return kind, text
    for rule in RULES:
        srx, rx, kind, text = rule[:4]
        if kind and re.search(srx, server) and re.search(rx, case_id) and (len(rule) < 5 or re.search(rule[4], message)):
            return kind, text
    return None, None


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "reports/interop"
    runs = {}
    for name, _, _ in SERVERS:
        path = os.path.join(out, name + ".json")
        if os.path.exists(path):
            with open(path) as f:
                runs[name] = json.load(f)
    lines = []
    w = lines.append
    with open(os.path.join(os.path.dirname(__file__), "README.head.md")) as f:
        w(f.read().rstrip("\n"))
    w("")
    w("## Results")
    w("")
    w("| Server | Built from | pass | non-strict | fail | error | unimplemented | skip | info |")
    w("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for name, label, source in SERVERS:
        if name not in runs:
            continue
        s = runs[name]["summary"]
        w(f"| [{label}](#{name}) | {source} | {s['pass']} | {s['non-strict']} | {s['fail']} | "
          f"{s['error']} | {s['unimplemented']} | {s['skip']} | {s['info']} |")
    total = {DEVIATION: 0, CONFIG: 0, CASE: 0, None: 0}
    sections = []
    for name, label, _ in SERVERS:
        if name not in runs:
            continue
        fails = [c for c in runs[name]["cases"] if c["verdict"] in ("fail", "error")]
        sec = [f"### {label}", "", f'<a id="{name}"></a>', ""]
        t = runs[name]["target"]
        sec.append(f"Greeting `{t['greeting']}`; EHLO: {', '.join(t['ehlo']) or '(none)'}.")
        sec.append("")
        by = {}
        for c in fails:
            kind, text = explain(name, c["id"], c["message"])
            total[kind] += 1
            by.setdefault((kind, text), []).append(c)
        order = {DEVIATION: 0, CONFIG: 1, CASE: 2, None: 3}
        for (kind, text), cs in sorted(by.items(), key=lambda kv: (order[kv[0][0]], kv[0][1] or "")):
            ids = ", ".join(f"`{c['id']}`" for c in cs)
            if kind is None:
                for c in cs:
                    msg = c["message"].replace("|", "\\|")
                    if len(msg) > 200:
                        msg = msg[:200] + "…"
                    sec.append(f"- **not yet explained** `{c['id']}` ({c['verdict']}): {msg}")
                continue
            sec.append(f"- **{kind}** ({len(cs)}): {text} — {ids}")
        if not fails:
            sec.append("No case fails.")
        sections.append("\n".join(sec))
    w("")
    w(f"Of the failures, {total[DEVIATION]} are deviations of the servers, {total[CONFIG]} follow "
      f"from the configuration (a default the operator can change, or the handler this run uses), "
      f"{total[CASE]} are problems of the cases (reported to the catalogue; see "
      f"[Case problems](#case-problems)), and {total[None]} are not yet explained.")
    w("")
    w("## Failures by server")
    w("")
    w("Each line is one cause, then the cases it explains. **deviation**: the server does "
      "not do what the RFC asks, with what documents it; **configuration**: a default or a "
      "choice of this run's configuration; **case**: the case, not the server, is at fault.")
    w("")
    w("\n\n".join(sections))
    with open(os.path.join(os.path.dirname(__file__), "README.tail.md")) as f:
        w("")
        w(f.read().rstrip("\n"))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

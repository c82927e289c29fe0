package reference

import (
	"fmt"
	"strconv"
)

// Reply codes used by the reference server. The names follow the reply texts
// of RFC 5321 §4.2.2 and the extension RFCs that define them; §4.3.2 lists
// which command may answer with which code.
const (
	// CodeSystemStatus is 211, system status or help reply (RFC 5321 §4.2.2).
	CodeSystemStatus = 211
	// CodeHelp is 214, a help message (RFC 5321 §4.2.2, §4.1.1.8).
	CodeHelp = 214
	// CodeReady is 220, the greeting and the STARTTLS go-ahead (RFC 5321 §4.2, RFC 3207 §4).
	CodeReady = 220
	// CodeClosing is 221, the answer to QUIT (RFC 5321 §4.1.1.10).
	CodeClosing = 221
	// CodeAuthSucceeded is 235, authentication succeeded (RFC 4954 §6).
	CodeAuthSucceeded = 235
	// CodeOK is 250, requested action completed (RFC 5321 §4.2.2).
	CodeOK = 250
	// CodeCannotVerify is 252, the VRFY answer of a server that does not
	// disclose mailboxes (RFC 5321 §3.5.3, §7.3).
	CodeCannotVerify = 252
	// CodeAuthChallenge is 334, a SASL challenge carrying only base64 (RFC 4954 §4).
	CodeAuthChallenge = 334
	// CodeStartMailInput is 354, the go-ahead for message data (RFC 5321 §4.1.1.4).
	CodeStartMailInput = 354
	// CodeServiceUnavailable is 421, the service is closing the channel
	// (RFC 5321 §3.8, §4.2.2).
	CodeServiceUnavailable = 421
	// CodeLocalError is 451, local error in processing (RFC 5321 §4.2.2).
	CodeLocalError = 451
	// CodeInsufficientStorage is 452, also used for too many recipients
	// (RFC 5321 §4.5.3.1.10).
	CodeInsufficientStorage = 452
	// CodeTLSUnavailable is 454, TLS not available for a temporary reason
	// (RFC 3207 §4).
	CodeTLSUnavailable = 454
	// CodeSyntaxError is 500, command unrecognised or line too long
	// (RFC 5321 §4.2.2, §4.5.3.1.9).
	CodeSyntaxError = 500
	// CodeParamSyntax is 501, syntax error in parameters or arguments
	// (RFC 5321 §4.2.2; RFC 4954 §4 for AUTH cancel and bad base64).
	CodeParamSyntax = 501
	// CodeNotImplemented is 502, command recognised but not implemented
	// (RFC 5321 §4.2.4).
	CodeNotImplemented = 502
	// CodeBadSequence is 503, bad sequence of commands (RFC 5321 §4.1.4).
	CodeBadSequence = 503
	// CodeParamNotImplemented is 504, command parameter not implemented,
	// also an unknown SASL mechanism (RFC 5321 §4.2.2, RFC 4954 §4).
	CodeParamNotImplemented = 504
	// CodeAuthRequired is 530, authentication or TLS required
	// (RFC 4954 §6, RFC 3207 §4).
	CodeAuthRequired = 530
	// CodeAuthFailed is 535, authentication credentials invalid (RFC 4954 §6).
	CodeAuthFailed = 535
	// CodeMailboxUnavailable is 550, mailbox unavailable or relaying denied
	// (RFC 5321 §4.2.2, §3.6.2).
	CodeMailboxUnavailable = 550
	// CodeExceededStorage is 552, message exceeds the fixed size limit
	// (RFC 5321 §4.2.2, RFC 1870 §6.1).
	CodeExceededStorage = 552
	// CodeMailboxNameNotAllowed is 553, mailbox name not allowed; with 5.6.7
	// for non-ASCII addresses without SMTPUTF8 (RFC 6531 §3.5).
	CodeMailboxNameNotAllowed = 553
	// CodeTransactionFailed is 554, transaction failed (RFC 5321 §4.2.2).
	CodeTransactionFailed = 554
	// CodeParamsNotRecognized is 555, MAIL/RCPT parameters not recognised
	// or not implemented (RFC 5321 §4.1.1.11).
	CodeParamsNotRecognized = 555
)

// SMTPError is a reply chosen by a Backend, a Session or a parser: the
// reference server sends it verbatim. Enhanced is the RFC 3463 status code
// ("5.1.1"); its class must match the first digit of Code.
type SMTPError struct {
	Code     int
	Enhanced string
	Message  string
}

// Error formats the error like the reply line it becomes.
func (e *SMTPError) Error() string {
	if e.Enhanced == "" {
		return strconv.Itoa(e.Code) + " " + e.Message
	}
	return fmt.Sprintf("%d %s %s", e.Code, e.Enhanced, e.Message)
}

// Temporary reports whether the reply is a 4yz (transient) one.
func (e *SMTPError) Temporary() bool { return e.Code/100 == 4 }

// errorf builds an *SMTPError with a formatted message.
func errorf(code int, enhanced, format string, args ...any) *SMTPError {
	return &SMTPError{Code: code, Enhanced: enhanced, Message: fmt.Sprintf(format, args...)}
}

// Replies that carry no per-call data are allocated once.
var (
	errBadSequenceHelo     = &SMTPError{CodeBadSequence, "5.5.1", "Send EHLO or HELO first"}
	errNestedMail          = &SMTPError{CodeBadSequence, "5.5.1", "Nested MAIL command"}
	errNeedMail            = &SMTPError{CodeBadSequence, "5.5.1", "Need MAIL command first"}
	errNeedRcpt            = &SMTPError{CodeBadSequence, "5.5.1", "Need RCPT command first (no valid recipients)"}
	errUnknownCommand      = &SMTPError{CodeSyntaxError, "5.5.2", "Command not recognized"}
	errEmptyCommand        = &SMTPError{CodeSyntaxError, "5.5.2", "Empty command line"}
	errLineTooLong         = &SMTPError{CodeSyntaxError, "5.5.2", "Line too long"}
	errAuthLineTooLong     = &SMTPError{CodeSyntaxError, "5.5.6", "Authentication exchange line is too long"}
	errNoArgsAllowed       = &SMTPError{CodeParamSyntax, "5.5.4", "Syntax error: no arguments allowed"}
	errNotImplemented      = &SMTPError{CodeNotImplemented, "5.5.1", "Command not implemented"}
	errTooManyRcpts        = &SMTPError{CodeInsufficientStorage, "4.5.3", "Too many recipients"}
	errRelayDenied         = &SMTPError{CodeMailboxUnavailable, "5.7.1", "Relaying denied"}
	errNoSuchUser          = &SMTPError{CodeMailboxUnavailable, "5.1.1", "No such user here"}
	errTooBig              = &SMTPError{CodeExceededStorage, "5.3.4", "Message too big for system"}
	errBareCRLF            = &SMTPError{CodeTransactionFailed, "5.6.0", "Message data contains a bare CR or LF; lines must end with CRLF"}
	errDataLineTooLong     = &SMTPError{CodeSyntaxError, "5.5.2", "Line too long in message data (limit 1000 octets with CRLF)"}
	errStoreFailed         = &SMTPError{CodeLocalError, "4.3.0", "Local error in processing"}
	errTooManyErrors       = &SMTPError{CodeServiceUnavailable, "4.7.0", "Too many errors, closing connection"}
	errShuttingDown        = &SMTPError{CodeServiceUnavailable, "4.3.2", "Service shutting down, closing connection"}
	errTooManyConns        = &SMTPError{CodeServiceUnavailable, "4.3.2", "Too many connections, try again later"}
	errCommandTimeout      = &SMTPError{CodeServiceUnavailable, "4.4.2", "Timeout waiting for command, closing connection"}
	errDataTimeout         = &SMTPError{CodeServiceUnavailable, "4.4.2", "Timeout waiting for data, closing connection"}
	errInternal            = &SMTPError{CodeServiceUnavailable, "4.3.0", "Internal server error, closing connection"}
	errBinaryNeedsBDAT     = &SMTPError{CodeBadSequence, "5.5.1", "BODY=BINARYMIME requires BDAT"}
	errDataAfterBDAT       = &SMTPError{CodeBadSequence, "5.5.1", "DATA not allowed after BDAT"}
	errParamsNeedEHLO      = &SMTPError{CodeParamsNotRecognized, "5.5.4", "Parameters not allowed after HELO"}
	errAuthParamNotOffered = &SMTPError{CodeParamsNotRecognized, "5.5.4", "AUTH parameter needs the AUTH extension, not offered here"}
	errNeedEHLO            = &SMTPError{CodeBadSequence, "5.5.1", "Send EHLO first: this command is an ESMTP extension"}
	errUTF8NotAllowed      = &SMTPError{CodeMailboxNameNotAllowed, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter"}
	errTLSActive           = &SMTPError{CodeBadSequence, "5.5.1", "TLS already active"}
	errTLSInTransaction    = &SMTPError{CodeBadSequence, "5.5.1", "STARTTLS not allowed during a mail transaction"}
	errTLSUnavailable      = &SMTPError{CodeTLSUnavailable, "4.7.0", "TLS not available"}
	errAuthNeedsTLS        = &SMTPError{CodeAuthRequired, "5.7.0", "Must issue a STARTTLS command first"}
	errAuthTwice           = &SMTPError{CodeBadSequence, "5.5.1", "Already authenticated"}
	errAuthInTx            = &SMTPError{CodeBadSequence, "5.5.1", "AUTH not allowed during a mail transaction"}
	errAuthCancelled       = &SMTPError{CodeParamSyntax, "5.7.0", "Authentication cancelled"}
	errAuthBadBase64       = &SMTPError{CodeParamSyntax, "5.5.2", "Invalid base64 data"}
	errAuthMechanism       = &SMTPError{CodeParamNotImplemented, "5.5.4", "Unrecognized authentication mechanism"}
	errAuthFailed          = &SMTPError{CodeAuthFailed, "5.7.8", "Authentication credentials invalid"}
)

// asReply returns the reply for a parser error: the *SMTPError itself, or
// a generic 501 for anything else.
func asReply(err error) *SMTPError {
	if se, ok := err.(*SMTPError); ok {
		return se
	}
	return errorf(CodeParamSyntax, "5.5.2", "Syntax error")
}

package reference

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// handleSTARTTLS upgrades the connection (RFC 3207). Every byte the client
// pipelined after STARTTLS is discarded before the handshake and the session
// starts afresh, so nothing sent in plaintext runs inside TLS
// (CVE-2011-0411). STARTTLS inside a transaction is refused with 503 rather
// than silently dropping the transaction. It returns false when the
// handshake failed and the connection is closed.
func (c *conn) handleSTARTTLS(arg string) bool {
	switch {
	case arg != "":
		c.replyErr(errNoArgsAllowed)
		return true
	case c.tlsState != nil:
		c.replyErr(errTLSActive)
		return true
	case c.tx.active:
		c.replyErr(errTLSInTransaction)
		return true
	case c.srv.tlsConfig == nil:
		c.replyErr(errTLSUnavailable)
		return true
	}
	c.reply(CodeReady, "2.0.0", "Ready to start TLS")
	if err := c.flush(); err != nil {
		c.endReason = "write error"
		return false
	}
	c.r.discard()
	tc := tls.Server(c.raw, c.srv.tlsConfig)
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.CommandTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		// No plaintext reply: the client is speaking TLS or nothing.
		c.endReason = "tls handshake failed"
		return false
	}
	st := tc.ConnectionState()
	c.endSession()
	c.helo, c.esmtp, c.authUser = "", false, ""
	c.tlsState = &st
	c.r.src, c.dw.dst = tc, tc
	c.r.applied = time.Time{}
	return true
}

// implicitTLS completes the handshake of a connection accepted on a TLS
// listener (implicit TLS, as on port 465: RFC 8314) before the greeting.
// Such a session starts with TLS active, so STARTTLS is neither offered
// nor accepted.
func (c *conn) implicitTLS(tc *tls.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.CommandTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.endReason = "tls handshake failed"
		return false
	}
	st := tc.ConnectionState()
	c.tlsState = &st
	return true
}

// SelfSigned makes an in-memory ECDSA P-256 certificate for hosts (DNS names
// or IP addresses; default "localhost"), valid for a year. It returns a
// server configuration and a pool that lets a client verify the
// certificate.
func SelfSigned(hosts ...string) (*tls.Config, *x509.CertPool, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"smtpspec reference"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pool, nil
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/smtpspec/smtpspec/reference"
)

// commaListFlag collects a comma-separated list; repeating the flag appends.
type commaListFlag []string

func (l *commaListFlag) String() string { return strings.Join(*l, ",") }

func (l *commaListFlag) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}

// authFlag collects repeated --auth USER:PASS values.
type authFlag map[string]string

func (a authFlag) String() string { return "" }

func (a authFlag) Set(v string) error {
	user, pass, ok := strings.Cut(v, ":")
	if !ok || user == "" {
		return fmt.Errorf("want USER:PASS, got %q", v)
	}
	a[user] = pass
	return nil
}

// cmdServe runs the reference server until SIGINT or SIGTERM, then shuts it
// down gracefully (sessions waiting for a command get 421).
func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		domains, mailboxes commaListFlag
		users              = authFlag{}
		cfg                reference.Config
	)
	listen := fs.String("listen", "127.0.0.1:2525", "`address` to listen on")
	tlsListen := fs.String("tls-listen", "", "also listen on this `address` with implicit TLS (as on port 465)")
	fs.StringVar(&cfg.Hostname, "hostname", reference.DefaultHostname, "server `name` in the greeting and EHLO reply")
	fs.Var(&domains, "domains", "comma-separated local `domains` (default "+reference.DefaultDomain+")")
	fs.Var(&mailboxes, "mailboxes", "comma-separated local `parts` accepted at local domains (default: any)")
	maildir := fs.String("maildir", "", "deliver to this Maildir `directory` (default: in memory)")
	certFile := fs.String("tls-cert", "", "PEM certificate `file` for STARTTLS (default: in-memory self-signed)")
	keyFile := fs.String("tls-key", "", "PEM private key `file` for STARTTLS")
	fs.Var(users, "auth", "AUTH credentials `USER:PASS` (repeatable)")
	fs.BoolVar(&cfg.AllowInsecureAuth, "allow-insecure-auth", false, "offer AUTH without TLS")
	fs.Int64Var(&cfg.MaxMessageSize, "max-size", reference.DefaultMaxMessageSize, "maximum message size in `octets` (negative: no limit)")
	fs.IntVar(&cfg.MaxRecipients, "max-rcpt", reference.DefaultMaxRecipients, "maximum recipients per message (at least 100)")
	fs.IntVar(&cfg.MaxConns, "max-conns", reference.DefaultMaxConns, "maximum concurrent sessions")
	fs.DurationVar(&cfg.CommandTimeout, "command-timeout", reference.DefaultCommandTimeout, "timeout waiting for a command")
	fs.DurationVar(&cfg.DataTimeout, "data-timeout", reference.DefaultDataTimeout, "timeout between reads of message data")
	verbose := fs.Bool("v", false, "log every command and reply")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smtpspec serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprintln(stderr, "smtpspec serve: --tls-cert and --tls-key go together")
		return exitUsage
	}
	if len(domains) > 0 {
		cfg.Domains = domains
	}
	cfg.Mailboxes = mailboxes
	cfg.Users = users
	cfg.Verbose = *verbose
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec serve: %v\n", err)
			return exitUsage
		}
		cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if *maildir != "" {
		md, err := reference.NewMaildir(*maildir)
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec serve: %v\n", err)
			return exitTrouble
		}
		cfg.Backend = md
	}
	srv, err := reference.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec serve: %v\n", err)
		return exitUsage
	}
	// Catch signals before announcing the address, so that a signal sent
	// by whoever reads it always means a graceful shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec serve: %v\n", err)
		return exitTrouble
	}
	fmt.Fprintf(stdout, "smtpspec serve: listening on %s\n", l.Addr())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(l) }()
	if *tlsListen != "" {
		tl, err := net.Listen("tcp", *tlsListen)
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec serve: %v\n", err)
			srv.Close()
			return exitTrouble
		}
		fmt.Fprintf(stdout, "smtpspec serve: listening on %s (implicit TLS)\n", tl.Addr())
		go func() { done <- srv.Serve(tls.NewListener(tl, srv.TLSConfig())) }()
	}
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "smtpspec serve: %v\n", err)
		return exitTrouble
	case <-ctx.Done():
	}
	stop()
	fmt.Fprintln(stderr, "smtpspec serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	if *tlsListen != "" {
		<-done
	}
	return exitOK
}

// Command gosmtpd runs the go-smtp example server (examples/gosmtp) on an
// address, for the interop run (scripts/interop.sh).
package main

import (
	"flag"
	"log"
	"net"

	"github.com/smtpspec/smtpspec/examples/gosmtp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2525", "address to listen on")
	domain := flag.String("domain", "example.test", "the local domain")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("go-smtp example server on %s", l.Addr())
	if err := gosmtp.Serve(l, &gosmtp.Backend{Domain: *domain}); err != nil {
		log.Fatal(err)
	}
}

module github.com/smtpspec/smtpspec

go 1.26

require (
	github.com/emersion/go-smtp v0.25.1
	github.com/google/go-cmp v0.7.0
	github.com/miekg/dns v1.1.73
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

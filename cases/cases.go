// Package cases holds the smtpspec conformance catalogue: YAML case files
// grouped by RFC and section (see README.md in this directory for the
// format). They are embedded so that the smtpspec binary and the go test API
// carry the catalogue with them.
package cases

import "embed"

// FS holds every case file, under directories such as rfc5321/ and
// security/.
//
//go:embed */*.yaml
var FS embed.FS

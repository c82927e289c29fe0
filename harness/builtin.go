package harness

import (
	"fmt"
	"sync"

	"github.com/smtpspec/smtpspec/cases"
)

var builtin = sync.OnceValues(func() (*Catalogue, error) {
	cat, err := LoadAll([]Source{BuiltinSource()})
	if err != nil {
		return nil, fmt.Errorf("built-in catalogue: %w", err)
	}
	return cat, nil
})

// Builtin returns the catalogue embedded in package cases.
func Builtin() (*Catalogue, error) { return builtin() }

// BuiltinSource is the embedded catalogue as a Source, for LoadAll.
func BuiltinSource() Source { return Source{FS: cases.FS, Root: ".", Name: "cases"} }

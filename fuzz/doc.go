// Package fuzz holds smtpspec's native Go fuzz targets; it has no code
// outside its tests. See README.md in this directory.
package fuzz

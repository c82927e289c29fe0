#!/bin/bash -eu
# Builds smtpspec's in-process fuzz targets as libFuzzer binaries, for
# ClusterFuzzLite and OSS-Fuzz (which run it as $SRC/build.sh with $SRC,
# $OUT, $CXX, $CXXFLAGS and $LIB_FUZZING_ENGINE set). It can also run by
# hand with Debian's clang: see fuzz/README.md.
#
# The targets are native Go fuzz tests (go test -fuzz). go-118-fuzz-build,
# which compile_native_go_fuzzer runs, compiles only a package's non-test
# files and swaps the testing package for its libFuzzer shim. Package fuzz
# has only _test.go files, so the build works on a copy in which:
#   - the unit tests (*_unit_test.go: t.Run, testing.B and the like, which
#     the shim lacks) are dropped;
#   - every other _test.go file (the targets and their helpers, written
#     against the shim's subset of testing) becomes a package file;
#   - a file imports the shim, so that go.mod can require it.
# Each target is then built as compile_native_go_fuzzer does for a fuzzing
# (not coverage) build, and gets the token dictionary. Only the file that
# holds the target is switched to the shim, so the helpers take a small
# interface (reporter in fuzz/findings_test.go), never *testing.T.

set -eu

SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)/..}
OUT=${OUT:-$PWD/out}
CXX=${CXX:-clang++}
CXXFLAGS=${CXXFLAGS:-}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}
REPO=${REPO:-$SRC/smtpspec}

# The in-process targets; FuzzRemote needs a server of its own to talk to.
TARGETS=${TARGETS:-"FuzzReplyParser FuzzCommandParser FuzzSession FuzzData FuzzDifferential"}

mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$REPO/." "$work/"
cd "$work/fuzz"
rm -f ./*_unit_test.go
rm -rf testdata/findings
for f in ./*_test.go; do
	mv "$f" "${f%_test.go}_libfuzzer.go"
done
printf 'package fuzz\n\nimport _ "github.com/AdamKorcz/go-118-fuzz-build/testing"\n' >register_libfuzzer.go
cd "$work"
go get github.com/AdamKorcz/go-118-fuzz-build/testing
go mod tidy
for target in $TARGETS; do
	go-118-fuzz-build -o "$work/$target.a" -func "$target" "$work/fuzz"
	$CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$work/$target.a" -o "$OUT/$target"
	cp "$REPO/.clusterfuzzlite/smtp.dict" "$OUT/$target.dict"
	printf '[libfuzzer]\ndict = %s.dict\n' "$target" >"$OUT/$target.options"
done

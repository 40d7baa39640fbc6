#!/usr/bin/env bash
# Regenerates the Go code under proto/ from the .proto files, from scratch, with pinned local tools.
# With --check, generates into a temporary directory and fails (exit 1) when the committed code is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12 # matches google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.0
# matches github.com/planetscale/vtprotobuf in go.mod: the generated code calls its protohelpers.
PROTOC_GEN_GO_VTPROTO_VERSION=v0.6.1-0.20240319094008-0393e58bdf10

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# install <binary> <package path> <version> [version-probe args...]
# Without probe args the version is read from the binary's build information (go version -m), for a
# plugin that prints none.
install() {
	local bin=$1 mod=$2 ver=$3 path
	shift 3
	if path=$(command -v "$bin"); then
		if [ $# -gt 0 ]; then
			"$bin" "$@" 2>&1 | grep -q -- "${ver#v}" && return 0
		elif [ "$(go version -m "$path" 2>/dev/null | awk '$1 == "path" { p = $2 } $1 == "mod" { v = $3 } END { print p, v }')" = "$mod $ver" ]; then
			return 0
		fi
	fi
	echo "proto.sh: installing $mod@$ver" >&2
	(cd / && GOFLAGS= go install "$mod@$ver")
}
install buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION" --version
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION" --version
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" --version
install protoc-gen-go-vtproto github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto "$PROTOC_GEN_GO_VTPROTO_VERSION"

generate() { # output directory
	local out=$1 tmpl
	tmpl=$(sed "s#out: proto#out: $out#" buf.gen.yaml)
	buf generate --template "$tmpl"
}

if [ "${1:-}" = "--check" ]; then
	buf lint
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	generate "$tmp"
	if ! diff -r -x '*.proto' "$tmp" proto >&2; then
		echo "proto.sh: generated code under proto/ is stale; run make proto" >&2
		exit 1
	fi
	exit 0
fi

find proto -name '*.pb.go' -delete
generate proto

#!/usr/bin/env bash
# Regenerates the Go code under proto/ from the .proto files, from scratch, with pinned local tools.
# With --check, generates into a temporary directory and fails (exit 1) when the committed code is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12 # matches google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.0

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# install <binary> <module path> <version> [version-probe args...]
install() {
	local bin=$1 mod=$2 ver=$3
	shift 3
	if command -v "$bin" >/dev/null && "$bin" "$@" 2>&1 | grep -q -- "${ver#v}"; then
		return 0
	fi
	echo "proto.sh: installing $mod@$ver" >&2
	(cd / && GOFLAGS= go install "$mod@$ver")
}
install buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION" --version
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION" --version
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" --version

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

#!/usr/bin/env bash
# Installs the third-party tools the tests drive: scikit-learn (numeric cross-checks), Python grpcio,
# grpcurl. Tests that need one skip with a message when it is absent, so `make test` also runs without.
set -uo pipefail
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
	if ! /usr/bin/python3 -c 'import sklearn, pandas, grpc' 2>/dev/null; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			python3-sklearn python3-pandas python3-grpcio >/dev/null || echo "ci-deps: apt install failed" >&2
	fi
fi
command -v grpcurl >/dev/null || go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4 || echo "ci-deps: grpcurl install failed" >&2
exit 0

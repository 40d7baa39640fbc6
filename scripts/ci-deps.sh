#!/usr/bin/env bash
# Installs the third-party tools the tests drive: scikit-learn, scipy and pandas (numeric cross-checks and
# the training benchmark's peer), Python grpcio (a third-party gRPC client), Chromium (the report is opened
# headless), grpcurl (reflection) and helm (make deploy-check). Tests that need one skip with a message
# when it is absent, so `make test` also runs without them; CI installs them so nothing skips there.
set -uo pipefail
pkgs=()
/usr/bin/python3 -c 'import sklearn, scipy, pandas' 2>/dev/null || pkgs+=(python3-sklearn python3-scipy python3-pandas)
/usr/bin/python3 -c 'import grpc' 2>/dev/null || pkgs+=(python3-grpcio)
command -v chromium >/dev/null || pkgs+=(chromium)
if [ ${#pkgs[@]} -gt 0 ]; then
	if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
			|| echo "ci-deps: apt-get install ${pkgs[*]} failed; the tests that need them will skip" >&2
	else
		echo "ci-deps: cannot install ${pkgs[*]} (not root with apt-get); the tests that need them will skip" >&2
	fi
fi
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
[ -x "$gobin/grpcurl" ] || command -v grpcurl >/dev/null \
	|| (cd / && go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4) \
	|| echo "ci-deps: grpcurl install failed; the grpcurl test will skip" >&2
# helm v4 builds with go install (about 90 s and 1.2 GB of module cache); make deploy-check needs it.
[ -x "$gobin/helm" ] || command -v helm >/dev/null \
	|| (cd / && go install helm.sh/helm/v4/cmd/helm@v4.3.2) \
	|| echo "ci-deps: helm install failed; make deploy-check will fail" >&2
[ -x "$gobin/versitygw" ] || command -v versitygw >/dev/null \
	|| (cd / && go install github.com/versity/versitygw/cmd/versitygw@v1.8.0) \
	|| echo "ci-deps: versitygw install failed; the S3 tests will skip" >&2
exit 0

#!/usr/bin/env bash
# Fails when a test asserts on wall-clock time: an `if` that compares an elapsed time (time.Since,
# Elapsed, took, Slowest, latency) and fails the test within the next three lines. Such assertions flake
# on a loaded machine; assert counts, states or ordering instead, and keep timings in benchmarks.
# Bounded waits (a loop or a deadline that ends a test which would otherwise hang) are not matched, nor
# an `if` marked `// wallclock: soak only`: a latency bound that only `make soak` (run alone) enforces.
set -euo pipefail
files=$(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
bad=$(awk '
	FNR == 1 { pending = 0 }
	/wallclock: soak only/ { next }
	/^[ \t]*if .*(time\.Since\(|Elapsed|[Tt]ook|Slowest|quantile\(|\.Sub\((sent|start|t0|begin)\)).*[<>]|^[ \t]*if .*[<>].*(time\.Since\(|Elapsed|[Tt]ook|Slowest)/ {
		pending = 3; where = FILENAME ":" FNR ": " $0; next
	}
	pending > 0 {
		pending--
		if ($0 ~ /t\.(Error|Errorf|Fatal|Fatalf|Fail)\(/) { print where; pending = 0 }
	}
' $files)
if [ -n "$bad" ]; then
	echo "wallclock-check: tests must not assert on elapsed time (assert counts, states or ordering):"
	echo "$bad" | sed 's/^/  /'
	exit 1
fi

#!/usr/bin/env bash
# batch-memory.sh measures the peak resident memory (VmHWM) of `leadscore serve` answering PredictBatch
# calls of 1,000 and 10,000 contacts with every rule hit of testdata/rules.yaml (the largest answers),
# under a memory limit, over gRPC (grpcurl). For each batch size it starts a fresh server, sends the
# batch 4 times in a row, then 4 at once, and prints the resident memory idle and at its peak.
#
# Environment: MEMORY_LIMIT (serve --memory-limit; 256MiB), SIZES ("1000 10000"), SERVE_ARGS (more
# serve flags, such as "--max-batch-contacts 20000"),
# GRPCURL (path of grpcurl; default: on PATH or in go env GOPATH/bin).
# Loopback only. Exit status: 0 after a measurement; non-zero when a step fails.
set -euo pipefail

memory_limit=${MEMORY_LIMIT:-256MiB}
sizes=${SIZES:-1000 10000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
request=$root/scripts/bench/serve-request.json

die() { echo "batch-memory: $*" >&2; exit 1; }
gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin=$(go env GOPATH)/bin
grpcurl=${GRPCURL:-$(command -v grpcurl || echo "$gobin/grpcurl")}
[[ -x $grpcurl ]] || die "grpcurl not found (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)"

work=$(mktemp -d "${TMPDIR:-/tmp}/leadscore-batch-memory.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && CGO_ENABLED=0 go build -o "$work/" ./cmd/leadscore) || die "go build failed"
"$work/leadscore" train --data "$root/testdata/contacts.parquet" --label deal_stage --positive closedwon \
	--time-column created_at --exclude true_probability --models "$work/models" --name leads --quiet \
	>"$work/train.out" 2>&1 || { cat "$work/train.out" >&2; die "leadscore train failed"; }

# One PredictBatch request of N copies of the bench contact, each with its own id.
for n in $sizes; do
	/usr/bin/python3 - "$request" "$n" >"$work/batch-$n.json" <<'PY'
import json, sys
one = json.load(open(sys.argv[1]))
contacts = []
for i in range(int(sys.argv[2])):
    c = dict(one["contact"]); c["id"] = "C%07d" % i; contacts.append(c)
print(json.dumps({"model": one["model"], "asOf": one["asOf"], "contacts": contacts}))
PY
done

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

printf 'contacts\tmemory limit\trequest JSON bytes\tidle RSS MiB\tpeak RSS MiB (4 in a row)\tpeak RSS MiB (then 4 at once)\n'
for n in $sizes; do
	"$work/leadscore" serve --models "$work/models" --rules "$root/testdata/rules.yaml" --addr 127.0.0.1:0 \
		--memory-limit "$memory_limit" ${SERVE_ARGS:-} 2>"$work/serve-$n.log" &
	pid=$!
	pids+=("$pid")
	addr=""
	for _ in $(seq 100); do
		addr=$(grep -oE 'listening" addr=127\.0\.0\.1:[0-9]+' "$work/serve-$n.log" | grep -oE '127\.0\.0\.1:[0-9]+' || true)
		[[ -n $addr ]] && break
		sleep 0.1
	done
	[[ -n $addr ]] || { cat "$work/serve-$n.log" >&2; die "leadscore serve did not start"; }
	idle=$(kib "$pid" VmRSS)
	call() { "$grpcurl" -plaintext -max-msg-sz $((64 << 20)) -d @ "$addr" leadscore.v1.LeadScoring/PredictBatch <"$work/batch-$n.json" >/dev/null; }
	for _ in 1 2 3 4; do call || die "PredictBatch of $n failed"; done
	seq_peak=$(kib "$pid" VmHWM)
	cpids=()
	for _ in 1 2 3 4; do call & cpids+=($!); done
	for p in "${cpids[@]}"; do wait "$p" || die "a concurrent PredictBatch of $n failed"; done
	peak=$(kib "$pid" VmHWM)
	printf '%s\t%s\t%s\t%.0f\t%.0f\t%.0f\n' "$n" "$memory_limit" "$(stat -c %s "$work/batch-$n.json")" \
		"$(echo "$idle / 1024" | bc -l)" "$(echo "$seq_peak / 1024" | bc -l)" "$(echo "$peak / 1024" | bc -l)"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
done

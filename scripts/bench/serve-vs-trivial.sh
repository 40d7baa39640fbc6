#!/usr/bin/env bash
# serve-vs-trivial.sh load-tests `leadscore serve` against leadscore-trivial, a server of the same
# LeadScoring service whose Predict returns a constant response copied from leadscore's answer to the
# same request (same size: probability, priority, manual score with every rule hit, ten reasons), so the
# difference is what scoring costs. Both marshal and unmarshal with leadscore's codec (serve/codec,
# generated vtprotobuf code) unless TRIVIAL_CODEC=stock gives the trivial server grpc-go's default
# codec; the Go load client always uses leadscore's. leadscore serve also decodes Predict requests into
# pooled memory (serve/decode.go), about 3 us a call less than the codec: the difference is scoring
# less that. Both listen on loopback in the same run. Each configuration runs against both servers back to back, alternating which goes first from round to round:
#   ghz -c 50, ghz -c 1, leadscore-load -c 50, leadscore-load -c 1
# and the script prints every run, then per tool the throughput ratio at 50 concurrent calls and the p99
# at one call, with PASS/MISS against the goals of issues 5 and 13: Predict throughput at least 90% of
# the trivial handler's at 50 concurrent calls, scoring adding at most 10 us of server CPU per call, p99
# under 0.5 ms at one concurrent call.
#
# ghz costs more CPU per call than a grpc-go server, and on a small machine client and servers share the
# cores, so the in-repo Go client (cmd/leadscore-load) measures the servers more truly; both are shown.
# "srv CPU" is the server process's user+system CPU time per call (from /proc), "cli CPU" the load
# client's (from /usr/bin/time); a busy machine disturbs them less than throughput. Their sums give the
# "CPU ratio", trivial over leadscore: the throughput ratio to expect when the CPU is the only limit.
#
# Environment: ROUNDS (rounds of every configuration; 2), N50 (calls per run at 50 concurrent; 20000),
# N1 (calls per run at 1 concurrent; 4000), LIMIT (seconds per run before it is killed; 60),
# GHZ (path of a ghz binary; default: ghz in go env GOBIN or GOPATH/bin, installed at v0.120.0 when
# it is not that version),
# TRIVIAL_CODEC (leadscore-trivial --codec: leadscore, the default, or stock),
# SERVER_GOGC (GOGC of both servers; default 400, what `leadscore serve --gc-percent` uses by default:
# leadscore's live heap is about 2 MB, so at Go's 100 it collects every couple of hundred calls).
# Exit status: 0 after a measurement, whether the goals are met or not; non-zero when a step fails.
set -euo pipefail

rounds=${ROUNDS:-2}
n50=${N50:-20000}
n1=${N1:-4000}
limit=${LIMIT:-60}
trivial_codec=${TRIVIAL_CODEC:-leadscore}
ghz_version=v0.120.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
request=$root/scripts/bench/serve-request.json
proto=$root/proto/leadscore/v1/leadscore.proto

die() { echo "serve-vs-trivial: $*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"

work=$(mktemp -d "${TMPDIR:-/tmp}/leadscore-serve-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

echo "building leadscore, leadscore-trivial and leadscore-load into $work"
(cd "$root" && CGO_ENABLED=0 go build -o "$work/" ./cmd/leadscore ./cmd/leadscore-trivial ./cmd/leadscore-load) || die "go build failed"

gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin=$(go env GOPATH)/bin
ghz=${GHZ:-$gobin/ghz}
if ! go version -m "$ghz" 2>/dev/null | grep -q "mod[[:space:]]*github.com/bojand/ghz[[:space:]]*$ghz_version"; then
	echo "installing ghz $ghz_version (go install, outside the module so go.mod is not touched)"
	(cd / && GOFLAGS= go install "github.com/bojand/ghz/cmd/ghz@$ghz_version") || die "go install ghz failed"
	ghz=$gobin/ghz
fi

echo "training model leads on testdata/contacts.parquet"
"$work/leadscore" train --data "$root/testdata/contacts.parquet" --label deal_stage --positive closedwon \
	--time-column created_at --exclude true_probability --models "$work/models" --name leads --quiet \
	>"$work/train.out" 2>&1 || { cat "$work/train.out" >&2; die "leadscore train failed"; }

# wait_addr LOG PATTERN: prints the loopback address a server logged, waiting up to 10 s.
wait_addr() {
	local log=$1 pat=$2 addr
	for _ in $(seq 100); do
		addr=$(grep -oE "$pat" "$log" | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1 || true)
		[[ -n $addr ]] && { echo "$addr"; return 0; }
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}

server_env=("GOGC=${SERVER_GOGC:-400}")
env "${server_env[@]}" "$work/leadscore" serve --models "$work/models" --rules "$root/testdata/rules.yaml" --addr 127.0.0.1:0 \
	--metrics-addr 127.0.0.1:0 2>"$work/serve.log" &
pids+=($!)
serve_pid=$!
serve_addr=$(wait_addr "$work/serve.log" 'listening" addr=127\.0\.0\.1:[0-9]+') || die "leadscore serve did not start"

env "${server_env[@]}" "$work/leadscore-trivial" --addr 127.0.0.1:0 --codec "$trivial_codec" --copy-from "$serve_addr" --request "$request" 2>"$work/trivial.log" &
pids+=($!)
trivial_pid=$!
trivial_addr=$(wait_addr "$work/trivial.log" 'on 127\.0\.0\.1:[0-9]+') || die "leadscore-trivial did not start"
metrics_addr=$(wait_addr "$work/serve.log" 'metrics" addr=127\.0\.0\.1:[0-9]+') || die "leadscore serve did not report its metrics address"
echo "leadscore serve on $serve_addr (pid $serve_pid); $(sed 's/^leadscore-trivial: //' "$work/trivial.log") (pid $trivial_pid)"

# cpu_ticks PID: user+system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

echo "warming up both servers"
for addr in "$serve_addr" "$trivial_addr"; do
	"$work/leadscore-load" --addr "$addr" --request "$request" -c 50 -n 3000 -z 10s --warmup 0 >/dev/null ||
		die "warm-up against $addr failed"
done

# measure TOOL C SERVER ROUND: one bounded run; appends
# "tool c server round calls failed rate p50_us p99_us srv_cpu_us_per_call" to $work/results.
measure() {
	local tool=$1 c=$2 server=$3 round=$4 addr pid n out=$work/$1-c$2-$3-$4.json
	if [[ $server == leadscore ]]; then addr=$serve_addr pid=$serve_pid; else addr=$trivial_addr pid=$trivial_pid; fi
	if ((c == 1)); then n=$n1; else n=$n50; fi
	local t0 t1 line
	t0=$(cpu_ticks "$pid")
	if [[ $tool == ghz ]]; then
		# ghz ignores -n when -z is given, so the count bounds the run and timeout bounds its time.
		timeout "$limit" /usr/bin/time -f '%U %S' -o "$work/client.time" "$ghz" --insecure --proto "$proto" --call leadscore.v1.LeadScoring/Predict \
			-D "$request" -c "$c" -n "$n" --connections 1 -O json "$addr" >"$out" 2>"$work/ghz.err" ||
			{ cat "$work/ghz.err" >&2; die "ghz -c $c against $server failed"; }
		line=$(jq -r '[.count, ((.statusCodeDistribution // {}) | to_entries | map(select(.key != "OK") | .value) | add // 0),
			.rps, (.latencyDistribution[] | select(.percentage == 50) | .latency / 1000),
			(.latencyDistribution[] | select(.percentage == 99) | .latency / 1000)] | @tsv' "$out")
	else
		timeout "$limit" /usr/bin/time -f '%U %S' -o "$work/client.time" "$work/leadscore-load" --addr "$addr" --request "$request" -c "$c" -n "$n" -z "$((limit - 5))s" \
			--warmup 0 --json >"$out" || die "leadscore-load -c $c against $server failed"
		line=$(jq -r '[.calls, .failed, .rate, .p50_us, .p99_us] | @tsv' "$out")
	fi
	t1=$(cpu_ticks "$pid")
	read -r calls failed rate p50 p99 <<<"$line"
	[[ -n ${p99:-} ]] || die "cannot read the figures of $tool -c $c against $server"
	local cpu cli
	cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$calls" 'BEGIN { printf "%.1f", d / hz / n * 1e6 }')
	cli=$(awk -v n="$calls" '{ printf "%.1f", ($1 + $2) / n * 1e6 }' "$work/client.time")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%s\t%s\n' "$tool" "$c" "$server" "$round" "$calls" "$failed" "$rate" "$p50" "$p99" "$cpu" "$cli" >>"$work/results"
}

: >"$work/results"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(leadscore trivial); else order=(trivial leadscore); fi
	echo "round $r/$rounds (${order[0]} first)"
	for cfg in "ghz 50" "ghz 1" "go 50" "go 1"; do
		read -r tool c <<<"$cfg"
		for server in "${order[@]}"; do measure "$tool" "$c" "$server" "$r"; done
	done
done

echo
echo "Predict of scripts/bench/serve-request.json (21 properties) with testdata/rules.yaml, on loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), servers' GOGC ${SERVER_GOGC:-400}, leadscore-trivial --codec $trivial_codec"
echo "ghz $ghz_version: ghz --insecure --proto proto/leadscore/v1/leadscore.proto --call leadscore.v1.LeadScoring/Predict -D scripts/bench/serve-request.json -c C -n N --connections 1 ADDR"
echo "go:  leadscore-load --addr ADDR --request scripts/bench/serve-request.json -c C -n N -z $((limit - 5))s"
echo "     (N = $n50 at c=50, $n1 at c=1; latencies in microseconds)"
echo
{
	printf 'tool\tc\tserver\tround\tcalls\tfailed\tcalls/s\tp50 us\tp99 us\tsrv CPU us/call\tcli CPU us/call\n'
	sort -t $'\t' -k1,1r -k2,2nr -k3,3 -k4,4n "$work/results"
} | column -t -s $'\t'
echo

awk -F'\t' '
function verdict(ok) { return ok ? "PASS" : "MISS" }
{ k = $1 SUBSEP $2 SUBSEP $3; rate[k] += $7; p99[k] += $9; cpu[k] += $10; cli[k] += $11; n[k]++; fail += $6 }
END {
	split("ghz go", tools, " ")
	for (i = 1; i <= 2; i++) {
		t = tools[i]
		ls = t SUBSEP 50 SUBSEP "leadscore"; tr = t SUBSEP 50 SUBSEP "trivial"
		l1 = t SUBSEP 1 SUBSEP "leadscore"; t1 = t SUBSEP 1 SUBSEP "trivial"
		if (!n[ls] || !n[tr] || !n[l1] || !n[t1]) continue
		r = (rate[ls] / n[ls]) / (rate[tr] / n[tr])
		p = p99[l1] / n[l1]
		printf "%-4s c=50: leadscore %6.0f calls/s, trivial %6.0f calls/s, ratio %.2f (goal >= 0.9) %s;  p99 leadscore %.0f us, trivial %.0f us\n",
			t, rate[ls] / n[ls], rate[tr] / n[tr], r, verdict(r >= 0.9), p99[ls] / n[ls], p99[tr] / n[tr]
		printf "%-4s c=1:  p99 leadscore %.0f us (goal < 500) %s, trivial %.0f us;  calls/s leadscore %.0f, trivial %.0f\n",
			t, p, verdict(p < 500), p99[t1] / n[t1], rate[l1] / n[l1], rate[t1] / n[t1]
		printf "     CPU per call at c=50: server leadscore %.1f us, trivial %.1f us (scoring adds %.1f us, goal <= 10) %s; client %.1f us, %.1f us\n",
			cpu[ls] / n[ls], cpu[tr] / n[tr], cpu[ls] / n[ls] - cpu[tr] / n[tr], verdict(cpu[ls] / n[ls] - cpu[tr] / n[tr] <= 10), cli[ls] / n[ls], cli[tr] / n[tr]
		printf "     CPU ratio at c=50 (server + client, trivial / leadscore): %.2f\n",
			(cpu[tr] + cli[tr]) / n[tr] / ((cpu[ls] + cli[ls]) / n[ls])
	}
	printf "(means over the rounds; %d failed calls in all)\n", fail
}' "$work/results"

# Server time alone at one concurrent call: the server's own Predict handling-time histogram
# (grpc_server_handling_seconds, all codes, buckets down to 50 us) over a dedicated c=1 run, so client and
# network time do not count.
predict_buckets() {
	curl -sf "http://$metrics_addr/metrics" |
		awk '/^grpc_server_handling_seconds_bucket\{/ && /grpc_method="Predict"/ {
			match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); print le, $NF }'
}
predict_buckets >"$work/buckets.before" || die "cannot read $metrics_addr/metrics"
"$work/leadscore-load" --addr "$serve_addr" --request "$request" -c 1 -n "$n1" -z "$((limit - 5))s" --warmup 0 >/dev/null ||
	die "server-time run failed"
predict_buckets >"$work/buckets.after" || die "cannot read $metrics_addr/metrics"
# Both scrapes list the buckets in the same (ascending) order.
paste -d' ' "$work/buckets.before" "$work/buckets.after" | awk '
$1 != $3 { print "bucket mismatch" > "/dev/stderr"; exit 1 }
{ le[NR] = $1; n[NR] = $4 - $2 }
END {
	total = n[NR]
	for (i = 1; i <= NR; i++) if (n[i] >= 0.99 * total) { p99 = le[i]; break }
	for (i = 1; i <= NR; i++) if (le[i] == "0.0005") under = n[i]
	verdict = (p99 != "+Inf" && p99 + 0 <= 0.0005) ? "PASS" : "MISS"
	printf "server time of Predict at c=1 (its own histogram, %d calls): p99 <= %s s (goal < 0.0005) %s; %.1f%% of calls within 0.5 ms\n",
		total, p99, verdict, 100 * under / total
}'

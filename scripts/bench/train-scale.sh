#!/usr/bin/env bash
# train-scale.sh measures how `leadscore train` scales with the rows: it generates SMALL and LARGE
# contacts (`leadscore generate`, one Parquet file each, kept under ${TMPDIR:-/tmp}/leadscore-bench
# and reused), trains each with the default flags (only the outcome named) under /usr/bin/time -v,
# and prints wall time, CPU time, peak memory (max RSS), the time of each step (`train --json`),
# the LARGE/SMALL time ratio, and PASS/MISS against the goals of issue 14: LARGE = 5M contacts in
# at most 2 GiB of peak memory, and time growing no faster than the rows (ratio at most 1.1 x the
# rows' ratio, 5.5 for 5M/1M). The load average is printed too: the machine is shared.
#
# Environment: SMALL (default 1000000), LARGE (5000000), SEED (1), LIMIT (seconds per run; 5400).
# Exit status: 0 after a measurement, whether the goals are met or not; non-zero when a step fails.
set -euo pipefail

small=${SMALL:-1000000}
large=${LARGE:-5000000}
seed=${SEED:-1}
limit=${LIMIT:-5400}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/scripts/bench/timev.sh"
work=${TMPDIR:-/tmp}/leadscore-bench
bin=$root/bin/leadscore

die() { echo "train-scale: $*" >&2; exit 1; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"

mkdir -p "$work"
run_dir=$(mktemp -d "$work/scale.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT

echo "building $bin"
(cd "$root" && go build -o bin/leadscore ./cmd/leadscore) || die "go build failed"

# data ROWS: the generated contacts' file, made once.
data() {
	local f=$work/contacts-$1-seed$seed.parquet
	if [[ ! -s $f ]]; then
		echo "generating $1 contacts (seed $seed) into $f" >&2
		"$bin" generate --rows "$1" --seed "$seed" --out "$f.tmp.parquet" >/dev/null || { rm -f "$f.tmp.parquet"; die "leadscore generate failed"; }
		mv "$f.tmp.parquet" "$f"
	fi
	echo "$f"
}

# measure ROWS: trains on ROWS contacts and prints "wall_seconds cpu_seconds max_rss_mb auc".
measure() {
	local rows=$1 f out=$run_dir/train-$1.out err=$run_dir/train-$1.err tv=$run_dir/train-$1.time
	f=$(data "$rows")
	echo "training on $rows contacts (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	if ! /usr/bin/time -v -o "$tv" timeout "$limit" "$bin" train --data "$f" --label deal_stage --positive closedwon \
		--negative closedlost --models "$run_dir/models-$rows" --name scale --json --quiet >"$out" 2>"$err"; then
		echo "train-scale: training on $rows contacts failed (time limit ${limit}s; status 124 means it ran out):" >&2
		tail -n 20 "$err" >&2
		return 1
	fi
	local wall cpu rss auc
	read -r wall cpu rss < <(timev_read "$tv")
	auc=$(jq -r '.metrics.auc' "$out")
	echo "$wall $cpu $rss $auc"
}

read -r sw sc sm sa < <(measure "$small") && [[ -n ${sa:-} ]] || die "training on $small contacts did not complete"
read -r lw lc lm la < <(measure "$large") && [[ -n ${la:-} ]] || die "training on $large contacts did not complete"

echo
echo "leadscore train, default flags, generated contacts (seed $seed), one Parquet file each; $(nproc) cores"
echo "reproduce: SMALL=$small LARGE=$large SEED=$seed scripts/bench/train-scale.sh"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
{
	printf 'rows\twall s\tCPU s\tmax RSS MB\tholdout AUC\n'
	printf '%s\t%s\t%s\t%s\t%.4f\n' "$small" "$sw" "$sc" "$sm" "$sa"
	printf '%s\t%s\t%s\t%s\t%.4f\n' "$large" "$lw" "$lc" "$lm" "$la"
} | column -t -s $'\t'
echo
echo "seconds per step (train --json timings):"
for rows in "$small" "$large"; do
	printf '%10s  %s\n' "$rows" "$(jq -r '[.timings[] | "\(.step) \(.seconds * 10 | round / 10)"] | join(", ")' "$run_dir/train-$rows.out")"
done
echo
awk -v s="$small" -v l="$large" -v sw="$sw" -v lw="$lw" -v sc="$sc" -v lc="$lc" -v lm="$lm" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
BEGIN {
	rows = l / s; t = lw / sw; goal = 1.1 * rows
	printf "time    %d/%d rows wall time ratio  %6.2f   (rows ratio %.2f; goal <= %.2f) %s\n", l, s, t, rows, goal, verdict(t <= goal)
	printf "        CPU time ratio               %6.2f   (user+sys; less sensitive to a loaded machine)\n", lc / sc
	printf "memory  %d rows max RSS          %6.0f MB (goal <= 2048 MB)  %s\n", l, lm, verdict(lm <= 2048)
}'

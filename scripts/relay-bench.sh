#!/usr/bin/env bash
# Relay benchmarks in alternating rounds: the root package's test binary is
# built once and run ROUNDS times; each run runs every contender of the
# selected benchmarks one after the other, so contenders alternate within
# each round. Prints every metric's median per benchmark over the rounds.
#
#   scripts/relay-bench.sh [ROUNDS]                 ping-pong, 10,000 round trips
#   BENCH=RelayIdle ARGS='-relay.idle=10000' BENCHTIME=1x scripts/relay-bench.sh 3
#
# RELAY_EXP=DIR also builds the test binary of another checkout (a scratch
# worktree with an experimental change) and runs it right after this one in
# every round; its lines are prefixed "exp:".
#
# HOG=N runs every round twice: as it is, then again while N busy loops
# (`yes > /dev/null`, not pinned, nice 0) compete for the CPUs; those lines
# are suffixed "+hog". The tail-latency table in BENCHMARKS.md:
#   HOG=2 BENCHTIME=20000x scripts/relay-bench.sh 10
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bench=${BENCH:-RelayPingPong}
benchtime=${BENCHTIME:-10000x}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
go test -c -o "$work/this.test" .
bins=(this)
if [ -n "${RELAY_EXP:-}" ]; then
  (cd "$RELAY_EXP" && go test -c -o "$work/exp.test" .)
  bins+=(exp)
fi
echo "load: $(uptime)"
hogs=(0)
if [ "${HOG:-0}" -gt 0 ]; then hogs+=("$HOG"); fi
hogpids=()
stophogs() { if [ ${#hogpids[@]} -gt 0 ]; then kill "${hogpids[@]}" 2>/dev/null || true; wait "${hogpids[@]}" 2>/dev/null || true; fi; hogpids=(); }
trap 'stophogs; rm -rf "$work"' EXIT
for round in $(seq "$rounds"); do
  for hog in "${hogs[@]}"; do
    for _ in $(seq "$hog"); do yes > /dev/null & hogpids+=($!); done
    suffix=""; if [ "$hog" -gt 0 ]; then suffix="+hog"; sleep 0.5; fi
    echo "round $round${suffix:+ (hog)}: $(cut -d' ' -f1-3 /proc/loadavg)"
    for bin in "${bins[@]}"; do
      # shellcheck disable=SC2086
      "$work/$bin.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" ${ARGS:-} |
        awk -v bin="$bin" -v r="$round" -v sfx="$suffix" '/^Benchmark/ {
          name = $1; sub(/-[0-9]+$/, "", name); if (bin == "exp") name = "exp:" name
          name = name sfx
          for (i = 3; i < NF; i += 2) print r, name, $(i+1), $i
        }' >> "$work/all"
    done
    stophogs
  done
done
echo "load: $(uptime)"
echo "medians of $rounds rounds:"
awk '{print $2, $3}' "$work/all" | sort -u | while read -r name unit; do
  m=$(awk -v n="$name" -v u="$unit" '$2==n && $3==u {print $4}' "$work/all" | sort -g |
    awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
  printf "%s %s %s\n" "$name" "$unit" "$m"
done | awk '{ if ($1 != last) { printf "%s%s", (NR>1 ? "\n" : ""), $1; last = $1 } printf "  %s %s", $3, $2 } END { print "" }'

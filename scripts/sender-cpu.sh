#!/usr/bin/env bash
# Sender CPU per GiB: a 1 GiB page-cached file sent to the C receiver `rx`
# (splice into /dev/null) by the C sendfile loop (`tx s`), by zcp
# (zerocopy.Copy), by zcp -copy io.Copy, by zcp -copy plain (1 MiB buffer)
# and by the C read+write loop (`tx r`), alternating, ROUNDS rounds.
# Usage: scripts/sender-cpu.sh [ROUNDS]
# Needs gcc, make, bc (installed with apt-get when run as root) and the C
# baselines, which are not in this repository: $BASELINES, by default
# ../shared/baselines next to the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need gcc gcc make make bc bc
need_baselines
rounds=${1:-5}
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r "$BASELINES" "$work/b" && chmod -R u+w "$work/b" && make -s -C "$work/b" >/dev/null
go build -o "$work/zcp" ./examples/zcp
head -c $((1 << 30)) /dev/urandom > "$work/file"; cat "$work/file" > /dev/null
port=19600
for round in $(seq "$rounds"); do
  for who in c-sendfile zerocopy io.Copy plain c-rw1m; do
    out="$work/rx.out"; "$work/b/rx" $port > "$out" 2>&1 & rxp=$!
    wait_for "$out" ready $rxp
    case $who in
      c-sendfile) ms=$("$work/b/tx" s $port "$work/file" 2>&1 | grep -o 'cpu_ms=[0-9.]*' | cut -d= -f2) ;;
      c-rw1m) ms=$("$work/b/tx" r $port "$work/file" 2>&1 | grep -o 'cpu_ms=[0-9.]*' | cut -d= -f2) ;;
      *) ms=$("$work/zcp" -v -copy $who "$work/file" tcp://127.0.0.1:$port 2>&1 | grep -o 'cpu=[0-9.]*[mµ]*s' | sed 's/cpu=//' | awk '/ms$/{sub("ms","");print;next} /µs$/{sub("µs","");print $1/1000;next} /s$/{sub("s","");print $1*1000}') ;;
    esac
    wait $rxp
    printf "%s %s %.3f\n" "$round" "$who" "$(echo "$ms/1000" | bc -l)"
    port=$((port + 1))
  done
done | tee "$work/all" | awk '{print "round="$1, $2, "cpu_s_per_GiB="$3}'
echo "medians (CPU s/GiB):"
for who in c-sendfile zerocopy io.Copy plain c-rw1m; do
  awk -v w=$who '$2==w{print $3}' "$work/all" | sort -n | awk -v w=$who '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "  %-10s %.3f\n", w, m}'
done

#!/usr/bin/env bash
# Proxy CPU per GiB: `tx s` (C sendfile) -> PROXY -> `rx` (C splice to
# /dev/null), 1 GiB, each proxy its own process (CPU from /proc/PID/stat;
# the C proxy prints its own), alternating, ROUNDS rounds. Contenders: the
# C splice proxy, examples/proxy with -copy zerocopy, io.Copy and plain.
# Usage: scripts/proxy-cpu.sh [ROUNDS]
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
go build -o "$work/proxy" ./examples/proxy
head -c $((1 << 30)) /dev/urandom > "$work/file"; cat "$work/file" > /dev/null
hz=$(getconf CLK_TCK); port=20000
for round in $(seq "$rounds"); do
  for who in c-proxy zerocopy io.Copy plain; do
    up=$port; lp=$((port + 1)); port=$((port + 2))
    "$work/b/rx" $up > "$work/rx.out" 2>&1 & rxp=$!
    wait_for "$work/rx.out" ready $rxp
    if [ $who = c-proxy ]; then
      "$work/b/proxy" $lp $up > "$work/p.out" 2>&1 & pp=$!
      wait_for "$work/p.out" ready $pp
    else
      "$work/proxy" -listen 127.0.0.1:$lp -upstream 127.0.0.1:$up -copy $who > "$work/p.out" 2>&1 & pp=$!
      wait_for "$work/p.out" proxying $pp
    fi
    "$work/b/tx" s $lp "$work/file" > /dev/null 2>&1
    wait $rxp
    if [ $who = c-proxy ]; then
      wait $pp; cpu=$(grep -o 'cpu_ms=[0-9.]*' "$work/p.out" | cut -d= -f2); cpu=$(echo "$cpu/1000" | bc -l)
    else
      sleep 0.05; cpu=$(awk -v hz="$hz" '{print ($14+$15)/hz}' /proc/$pp/stat); kill $pp; wait $pp 2>/dev/null || true
    fi
    printf "%s %s %.3f\n" "$round" "$who" "$cpu"
  done
done | tee "$work/all" | awk '{print "round="$1, $2, "cpu_s_per_GiB="$3}'
echo "medians (CPU s/GiB):"
for who in c-proxy zerocopy io.Copy plain; do
  awk -v w=$who '$2==w{print $3}' "$work/all" | sort -n | awk -v w=$who '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "  %-10s %.3f\n", w, m}'
done

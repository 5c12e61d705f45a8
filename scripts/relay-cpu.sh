#!/usr/bin/env bash
# Relay proxy CPU per GiB against the C splice proxy, the hand-written
# io.Copy relay (../shared/loadgen iorelay) and HAProxy.
#
#  (i)  one stream: C `tx s` (sendfile) -> PROXY -> C `rx` (splice to
#       /dev/null), 1 GiB. Contenders: the C splice proxy (prints its own
#       CPU), a Relay proxy, iorelay.
#  (ii) 64 concurrent streams x 32 MiB (2 GiB) with loadgen's multistream
#       (`-n 64 -mib 32`). Contenders: the Relay proxy, iorelay, HAProxy
#       (`mode tcp`, `option splice-request`, `option splice-response`,
#       `nbthread 1`; installed from the distribution's packages when
#       missing and running as root, skipped with a message otherwise).
#
# Each proxy runs as its own process; a Go proxy's or HAProxy's CPU is the
# delta of utime+stime (/proc/PID/stat fields 14 and 15) across the
# transfer. Contenders alternate within each round; medians over ROUNDS.
#
# The Relay proxy is generated into a temporary module (package main, one
# file, zerocopy.Relay only, any net.Conn from the listener) that replaces
# the module with this checkout. RELAY_EXP=DIR adds a contender "relay-exp"
# built against another checkout (a scratch worktree with an experimental
# change), alternating with the others.
#
# SCENARIOS="1 64" (default) selects the scenarios; GIB=N sends N GiB in
# the one-stream scenario (default 1; more GiB, finer than the 10 ms clock
# tick). Medians and means are printed.
#
# Usage: scripts/relay-cpu.sh [ROUNDS]   (needs gcc, make, go, awk;
#        ../shared/baselines and ../shared/loadgen next to the repository,
#        or SHARED=DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
rounds=${1:-5}
scenarios=${SCENARIOS:-1 64}
gib=${GIB:-1}
# The shared folder sits next to the repository (../shared); from a git
# worktree one level further down, ../../shared. SHARED=DIR overrides.
shared=${SHARED:-}
if [ -z "$shared" ]; then
  for d in ../shared ../../shared; do [ -d "$d/baselines" ] && { shared=$(cd "$d" && pwd); break; }; done
  shared=${shared:-$(cd .. && pwd)/shared}
fi
for tool in gcc make go awk; do
  command -v $tool >/dev/null || { echo "relay-cpu.sh: $tool is required and not installed" >&2; exit 1; }
done
for d in "$shared/baselines" "$shared/loadgen"; do
  [ -d "$d" ] || { echo "relay-cpu.sh: $d is missing (the shared C baselines and loadgen must sit next to the repository)" >&2; exit 1; }
done
if [ -n "${RELAY_EXP:-}" ] && [ ! -f "$RELAY_EXP/go.mod" ]; then
  echo "relay-cpu.sh: RELAY_EXP=$RELAY_EXP is not a checkout of the module" >&2; exit 1
fi

work=$(mktemp -d)
# Every process started is listed in $work/pids (the rounds run in a
# subshell), so that an early exit leaves none behind.
cleanup() {
  [ -f "$work/pids" ] && while read -r p; do kill "$p" 2>/dev/null || true; done < "$work/pids"
  rm -rf "$work"
}
trap cleanup EXIT

# (c) the C baselines
cp -r "$shared/baselines" "$work/b" && chmod -R u+w "$work/b" && make -s -C "$work/b" >/dev/null
# ... and the same C proxy with a Go conn's socket options: TCP_NODELAY on
# both sockets (Go's default) and no SPLICE_F_MORE (a relay must not cork:
# golang/go#10948). The gap between the two C proxies is what those
# options cost; the gap from c-nodelay to Relay is Go's.
sed -e 's/SPLICE_F_MOVE | SPLICE_F_MORE/SPLICE_F_MOVE/g' \
    -e 's|  int p\[2\];|  setsockopt(in, IPPROTO_TCP, TCP_NODELAY, \&one, sizeof one); setsockopt(out, IPPROTO_TCP, TCP_NODELAY, \&one, sizeof one);\n  int p[2];|' \
    -e 's|#include <netinet/in.h>|#include <netinet/in.h>\n#include <netinet/tcp.h>|' \
    "$work/b/proxy.c" > "$work/b/proxy-nodelay.c"
grep -q TCP_NODELAY "$work/b/proxy-nodelay.c" || { echo "relay-cpu.sh: could not derive the TCP_NODELAY C proxy from proxy.c" >&2; exit 1; }
gcc -O2 -o "$work/b/proxy-nodelay" "$work/b/proxy-nodelay.c"
# (b) iorelay and multistream
(cd "$shared/loadgen" && go build -o "$work/" ./iorelay ./multistream)
# (a) the Relay proxy, generated
genproxy() { # genproxy DIR REPO
  mkdir -p "$1"
  cat > "$1/go.mod" <<EOF
module relayproxy

go 1.25

require github.com/zerocopy-go/zerocopy v0.0.0

replace github.com/zerocopy-go/zerocopy => $2
EOF
  cat > "$1/main.go" <<'EOF'
// relayproxy -listen ADDR -upstream ADDR: a TCP proxy on zerocopy.Relay.
package main

import (
	"context"
	"flag"
	"log"
	"net"

	"github.com/zerocopy-go/zerocopy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to accept on")
	upstream := flag.String("upstream", "", "address to dial for each connection")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("proxying %s -> %s", ln.Addr(), *upstream)
	serve(ln, *upstream)
}

// serve relays every conn ln accepts (any net.Conn) to a new conn to up.
func serve(ln net.Listener, up string) {
	var r zerocopy.Relayer
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func(c net.Conn) {
			u, err := net.Dial("tcp", up)
			if err != nil {
				log.Print(err)
				_ = c.Close()
				return
			}
			if _, _, err := r.Relay(context.Background(), c, u); err != nil {
				log.Print(err)
			}
		}(c)
	}
}
EOF
  (cd "$1" && GOFLAGS="-mod=mod -buildvcs=false" go build -o proxy .)
}
genproxy "$work/relay" "$repo"
relay_bins=(relay)
if [ -n "${RELAY_EXP:-}" ]; then
  genproxy "$work/relay-exp" "$(cd "$RELAY_EXP" && pwd)"
  relay_bins+=(relay-exp)
fi

# HAProxy
have_haproxy=1
if ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing haproxy (apt-get)..." >&2
    { apt-get update && apt-get install -y haproxy; } >"$work/apt.log" 2>&1 || true
  fi
  command -v haproxy >/dev/null || { have_haproxy=0; echo "relay-cpu.sh: haproxy is not installed and could not be installed: HAProxy skipped" >&2; }
fi

head -c $((gib << 30)) /dev/urandom > "$work/file"; cat "$work/file" > /dev/null
hz=$(getconf CLK_TCK); port=$((10000 + RANDOM % 8000))
# newports: sets up and lp to two ports no socket uses (other engineers'
# benchmarks share the machine's port space)
inuse() { awk -v p=":$(printf '%04X' "$1")" '$2 ~ p"$" || $3 ~ p"$" {f=1} END{exit !f}' /proc/net/tcp; }
newports() {
  while inuse $port || inuse $((port + 1)); do port=$((port + 2)); done
  up=$port; lp=$((port + 1)); port=$((port + 2))
  [ $port -lt 19000 ] || port=10000
}
ticks() { # the proxy's CPU ticks; fails with its output if it is gone
  awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || { echo "relay-cpu.sh: proxy $1 is gone:" >&2; cat "$work/p.out" >&2; return 1; }
}
waitfor() { # waitfor FILE WORD PID
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "relay-cpu.sh: process exited before '$2':" >&2; cat "$1" >&2; exit 1; }
    sleep 0.01
  done
}
# waitlisten PORT PID: until a socket listens on 127.0.0.1:PORT (no probe
# connection: it would reach the upstream and count as a stream)
waitlisten() {
  local hex; hex=$(printf '%04X' "$1")
  until awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END{exit !f}' /proc/net/tcp; do
    kill -0 "$2" 2>/dev/null || { echo "relay-cpu.sh: proxy exited before listening:" >&2; cat "$work/p.out" >&2; exit 1; }
    sleep 0.01
  done
}
# startproxy WHO LISTEN UPSTREAM: sets pp to the proxy's PID once it listens
startproxy() {
  rm -f "$work/p.out" # else a wait could read the last proxy's output before the shell truncates it
  case $1 in
  relay | relay-exp) "$work/$1/proxy" -listen 127.0.0.1:$2 -upstream 127.0.0.1:$3 > "$work/p.out" 2>&1 & pp=$!; echo $pp >> "$work/pids"; waitfor "$work/p.out" proxying $pp ;;
  iorelay) "$work/iorelay" -listen 127.0.0.1:$2 -upstream 127.0.0.1:$3 > "$work/p.out" 2>&1 & pp=$!; echo $pp >> "$work/pids"
    waitlisten $2 $pp ;;
  haproxy)
    cat > "$work/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 1000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option splice-request
  option splice-response
listen relay
  bind 127.0.0.1:$2
  server up 127.0.0.1:$3
EOF
    haproxy -db -f "$work/haproxy.cfg" > "$work/p.out" 2>&1 & pp=$!; echo $pp >> "$work/pids"
    waitlisten $2 $pp ;;
  esac
}
stopproxy() { kill "$pp" 2>/dev/null || true; wait "$pp" 2>/dev/null || true; }

one=(c-proxy c-nodelay "${relay_bins[@]}" iorelay)
multi=("${relay_bins[@]}" iorelay)
[ $have_haproxy = 1 ] && multi+=(haproxy)

echo "load: $(uptime)"
: > "$work/all"
for round in $(seq "$rounds"); do
  # (i) one stream, GIB GiB
  [[ " $scenarios " == *" 1 "* ]] || one=()
  for who in "${one[@]}"; do
    newports
    if [ $who = c-proxy ] || [ $who = c-nodelay ]; then
      rm -f "$work/p.out"
      bin=proxy; [ $who = c-nodelay ] && bin=proxy-nodelay
      "$work/b/$bin" $lp $up > "$work/p.out" 2>&1 & pp=$!; echo $pp >> "$work/pids"
      waitfor "$work/p.out" ready $pp
    else
      startproxy $who $lp $up
    fi
    rm -f "$work/rx.out"
    "$work/b/rx" $up > "$work/rx.out" 2>&1 & rxp=$!; echo $rxp >> "$work/pids"
    waitfor "$work/rx.out" ready $rxp
    case $who in c-*) ;; *) t0=$(ticks $pp) ;; esac
    "$work/b/tx" s $lp "$work/file" > "$work/tx.out" 2>&1 || { echo "relay-cpu.sh: $who: tx failed:" >&2; cat "$work/tx.out" "$work/p.out" >&2; exit 1; }
    wait $rxp || { echo "relay-cpu.sh: $who: rx failed:" >&2; cat "$work/rx.out" >&2; exit 1; }
    got=$(grep -o '[0-9]\{6,\}' "$work/rx.out" | tail -1 || true)
    [ "$got" = $((gib << 30)) ] || { echo "relay-cpu.sh: $who: rx got '$got' bytes, want $((gib << 30))" >&2; cat "$work/rx.out" "$work/p.out" >&2; exit 1; }
    if [ $who = c-proxy ] || [ $who = c-nodelay ]; then
      wait $pp; cpu=$(grep -o 'cpu_ms=[0-9.]*' "$work/p.out" | cut -d= -f2); cpu=$(awk -v c="$cpu" -v g="$gib" 'BEGIN{print c/1000/g}')
    else
      sleep 0.05; t1=$(ticks $pp); stopproxy
      cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v g="$gib" 'BEGIN{print (b-a)/hz/g}')
    fi
    printf "%s 1stream %s %.3f\n" "$round" "$who" "$cpu" | tee -a "$work/all"
  done
  # (ii) 64 streams x 32 MiB = 2 GiB
  [[ " $scenarios " == *" 64 "* ]] || multi=()
  for who in "${multi[@]}"; do
    newports
    rm -f "$work/ms.err"
    mkfifo "$work/ms.in"
    "$work/multistream" -proxy 127.0.0.1:$lp -upstream 127.0.0.1:$up -n 64 -mib 32 -file "$work/file" \
      < "$work/ms.in" > "$work/ms.out" 2> "$work/ms.err" & msp=$!; echo $msp >> "$work/pids"
    exec 4>"$work/ms.in"
    waitfor "$work/ms.err" ready $msp
    startproxy $who $lp $up
    t0=$(ticks $pp)
    echo go >&4; exec 4>&-
    wait $msp || { echo "relay-cpu.sh: $who: multistream failed:" >&2; cat "$work/ms.out" "$work/ms.err" "$work/p.out" >&2; exit 1; }
    rm -f "$work/ms.in"
    grep -q "^ok $((64 * 32 << 20))" "$work/ms.out" || { echo "relay-cpu.sh: $who: short transfer" >&2; cat "$work/ms.out" >&2; exit 1; }
    sleep 0.05; t1=$(ticks $pp); stopproxy
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN{print (b-a)/hz/2}')
    printf "%s 64x32MiB %s %.3f\n" "$round" "$who" "$cpu" | tee -a "$work/all"
  done
done | awk '{print "round="$1, $2, $3, "cpu_s_per_GiB="$4}'
echo "load: $(uptime)"

med() { # med SCENARIO WHO
  awk -v s="$1" -v w="$2" '$2==s && $3==w {print $4}' "$work/all" | sort -n |
    awk '{a[NR]=$1} END{if (NR==0) print "-"; else print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'
}
mean() { awk -v s="$1" -v w="$2" '$2==s && $3==w {t+=$4; n++} END{if (n) printf "%.3f", t/n; else print "-"}' "$work/all"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="-" || b=="-" || b==0) print "-"; else printf "%.2fx", a/b }'; }
echo "medians (means) of $rounds rounds, proxy CPU s/GiB:"
for s in 1stream 64x32MiB; do
  if [ $s = 1stream ]; then whos=("${one[@]}"); else whos=("${multi[@]}"); fi
  for who in "${whos[@]}"; do printf "  %-9s %-10s %s (%s)\n" $s "$who" "$(med $s "$who")" "$(mean $s "$who")"; done
done
r1=$(med 1stream relay); c1=$(med 1stream c-proxy); n1=$(med 1stream c-nodelay); i1=$(med 1stream iorelay)
r2=$(med 64x32MiB relay); i2=$(med 64x32MiB iorelay); h2=$(med 64x32MiB haproxy)
echo "ratios:"
echo "  1 stream:   Relay/C $(ratio "$r1" "$c1")   Relay/C-nodelay $(ratio "$r1" "$n1")   Relay/iorelay $(ratio "$r1" "$i1")   iorelay/C $(ratio "$i1" "$c1")"
echo "  64 streams: Relay/iorelay $(ratio "$r2" "$i2")   Relay/HAProxy $(ratio "$r2" "$h2")   iorelay/HAProxy $(ratio "$i2" "$h2")"
if [ -n "${RELAY_EXP:-}" ]; then
  echo "  relay-exp/relay: 1 stream $(ratio "$(med 1stream relay-exp)" "$r1") (means $(ratio "$(mean 1stream relay-exp)" "$(mean 1stream relay)"))   64 streams $(ratio "$(med 64x32MiB relay-exp)" "$r2") (means $(ratio "$(mean 64x32MiB relay-exp)" "$(mean 64x32MiB relay)"))"
fi

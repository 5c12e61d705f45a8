#!/usr/bin/env bash
# examples/fileserver (zerocopy.SendFile) vs the same binary with -std
# (net/http's http.FileServer) vs nginx (sendfile on), under wrk on
# loopback: requests/s for a 4 KiB file, transfer rate for a 256 MiB file.
# Servers alternate; ROUNDS rounds of DURATION each; medians at the end.
# Usage: scripts/http.sh [ROUNDS] [DURATION]
# Needs nginx, wrk and curl (installed with apt-get when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need nginx nginx-light wrk wrk curl curl
rounds=${1:-3}; dur=${2:-5s}
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/logs"
head -c 4096 /dev/urandom > "$work/root/small.bin"
head -c $((256 << 20)) /dev/urandom > "$work/root/big.bin"
cat "$work/root/big.bin" > /dev/null
chmod -R a+rX "$work" # nginx workers run unprivileged
go build -o "$work/fileserver" ./examples/fileserver
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
error_log $work/logs/error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  sendfile on; tcp_nopush on; access_log off;
  client_body_temp_path $work/logs; proxy_temp_path $work/logs; fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs; scgi_temp_path $work/logs;
  server { listen 127.0.0.1:18090; root $work/root; }
}
CONF
port_of() { case $1 in zerocopy) echo 18091 ;; http.FileServer) echo 18092 ;; nginx) echo 18090 ;; esac; }
start() { # starts server $1 in the background; its pid is in $pid
  case $1 in
    zerocopy) "$work/fileserver" -listen 127.0.0.1:18091 -root "$work/root" >/dev/null 2>&1 & ;;
    http.FileServer) "$work/fileserver" -std -listen 127.0.0.1:18092 -root "$work/root" >/dev/null 2>&1 & ;;
    nginx) nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' >/dev/null 2>&1 & ;;
  esac
  pid=$!
}
for round in $(seq "$rounds"); do
  for who in zerocopy http.FileServer nginx; do
    port=$(port_of $who); start $who
    for i in $(seq 200); do
      curl -s -o /dev/null "http://127.0.0.1:$port/small.bin" && break
      kill -0 $pid 2>/dev/null || { echo "$who exited at start (port $port in use?)" >&2; exit 1; }
      [ $i = 200 ] && { echo "$who does not answer on port $port after 10 s" >&2; exit 1; }
      sleep 0.05
    done
    for f in small.bin big.bin; do # measure only servers that answer 200 with the right size
      code=$(curl -s -o "$work/check" -w '%{http_code}' "http://127.0.0.1:$port/$f")
      [ "$code" = 200 ] && cmp -s "$work/check" "$work/root/$f" || { echo "$who: GET /$f gave $code or wrong bytes" >&2; exit 1; }
    done
    rps=$(wrk -t1 -c32 -d"$dur" "http://127.0.0.1:$port/small.bin" | awk '/Requests\/sec/{print $2}')
    mbs=$(wrk -t1 -c4 -d"$dur" "http://127.0.0.1:$port/big.bin" | awk '/Transfer\/sec/{v=$2; if (v ~ /GB$/) {sub("GB","",v); v*=1024} else sub("MB","",v); print v}')
    kill $pid; wait $pid 2>/dev/null || true
    [ $who = nginx ] && pkill -f "nginx -c $work/nginx.conf" 2>/dev/null || true
    sleep 0.3
    echo "$round $who $rps $mbs"
  done
done | tee "$work/all" | awk '{printf "round=%s %-16s 4KiB req/s=%s  256MiB MB/s=%s\n", $1, $2, $3, $4}'
echo "medians:"
for who in zerocopy http.FileServer nginx; do
  r=$(awk -v w=$who '$2==w{print $3}' "$work/all" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
  m=$(awk -v w=$who '$2==w{print $4}' "$work/all" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
  printf "  %-16s 4KiB req/s=%-10s 256MiB MB/s=%s\n" "$who" "$r" "$m"
done

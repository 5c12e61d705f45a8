# Shared by the scripts in this folder (source it; it is not a program).

# need CMD PACKAGE...: make sure the commands exist. As root (and unless
# ZEROCOPY_NO_INSTALL=1) missing ones are installed with apt-get; otherwise
# the script stops at once, saying what is missing and how to get it.
need() {
  local missing=() pkgs=() cmd pkg
  while [ $# -gt 0 ]; do
    cmd=$1 pkg=$2; shift 2
    command -v "$cmd" >/dev/null 2>&1 || { missing+=("$cmd"); pkgs+=("$pkg"); }
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && [ "${ZEROCOPY_NO_INSTALL:-}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$(basename "$0"): installing ${pkgs[*]} (for ${missing[*]})" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2 || {
      echo "$(basename "$0"): apt-get install ${pkgs[*]} failed" >&2; exit 1; }
    for cmd in "${missing[@]}"; do
      command -v "$cmd" >/dev/null 2>&1 || { echo "$(basename "$0"): $cmd still missing after installing" >&2; exit 1; }
    done
    return 0
  fi
  echo "$(basename "$0"): missing ${missing[*]}; install them (Debian/Ubuntu: apt-get install ${pkgs[*]}), or run as root to have them installed" >&2
  exit 1
}

# need_baselines: the C baselines (rx, tx, proxy) live outside the
# repository, in $BASELINES (default: ../shared/baselines next to the
# checkout). Stops at once when they are not there.
need_baselines() {
  BASELINES=${BASELINES:-../shared/baselines}
  if [ ! -f "$BASELINES/Makefile" ]; then
    echo "$(basename "$0"): the C baselines are missing: no $BASELINES/Makefile (resolved from $(pwd))." >&2
    echo "  They are not part of this repository. Point BASELINES=/path/to/baselines at a copy (rx.c, tx.c, proxy.c and their Makefile)." >&2
    exit 1
  fi
}

# wait_for FILE PATTERN PID: wait (sleeping) until FILE contains PATTERN;
# stop with a message if process PID exits first or after 10 s.
wait_for() {
  local file=$1 pattern=$2 pid=$3 i
  for i in $(seq 1000); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$(basename "$0"): process $pid exited before printing '$pattern':" >&2; cat "$file" >&2; exit 1; }
    sleep 0.01
  done
  echo "$(basename "$0"): no '$pattern' from process $pid in 10 s" >&2
  exit 1
}

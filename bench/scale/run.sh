#!/usr/bin/env bash
# Ingest at scale (#14) and daemon memory (#17): `broadsheet fetch` against
# the feed farm beside the gofeed baseline (fetch + parse, 16 workers,
# nothing stored), in the same run, for each N and backend:
#   full     first pass over N new feeds          ratio = gofeed wall / ours (goal >= 0.5)
#   changed  every feed has one new item          ratio = ours / gofeed full (goal <= 1.3)
#   304      nothing changed                      seconds (goal <= 1 s at 10,000)
#   peak RSS of each pass                         (goal <= 150 MB)
# then (DAEMON=1, the default) `broadsheet run` over the fetched SQLite
# database: RSS 10 s after start and after 3 poll cycles (goal <= 150 MB).
#
#   bash bench/scale/run.sh                  # N=200, sqlite, and postgres if reachable
#   NS="1000 5000 10000" bash bench/scale/run.sh
#   BACKENDS=sqlite DAEMON=0 PROFILE=1 bash bench/scale/run.sh
#
# PROFILE=1 keeps a CPU and heap profile of each sqlite full pass and of
# the daemon after 3 cycles, and prints `go tool pprof -top` of them.
# Tools come from ../shared/bench (FARM_DIR), never copied into the repo.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

NS=${NS:-200}
BACKENDS=${BACKENDS:-"sqlite postgres"}
DAEMON=${DAEMON:-1}
PROFILE=${PROFILE:-0}
WORKERS=${WORKERS:-16}
CYCLE=${CYCLE:-60}   # daemon poll period, seconds (the configuration allows no less)
FARM_DIR=${FARM_DIR:-$repo/../../shared/bench}
[ -d "$FARM_DIR/feedfarm" ] || FARM_DIR=/work/shared/bench
PGDSN=${BROADSHEET_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
PORT=${PORT:-18089}
export PGOPTIONS=--client-min-messages=warning
farm_addr=127.0.0.1:$PORT

tmp=$(mktemp -d)
farm_pid="" daemon_pid="" schemas=()
cleanup() {
  [ -n "$daemon_pid" ] && { kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; }
  [ -n "$farm_pid" ] && { kill "$farm_pid" 2>/dev/null || true; wait "$farm_pid" 2>/dev/null || true; }
  for s in "${schemas[@]}"; do psql -q "$PGDSN" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "bench: $*" >&2; exit 1; }

echo "bench: building" >&2
go build -o "$tmp/broadsheet" ./cmd/broadsheet
(cd "$FARM_DIR/feedfarm" && go build -o "$tmp/feedfarm" .)
(cd "$FARM_DIR/gofeedbase" && go build -o "$tmp/gofeedbase" .)

if [[ " $BACKENDS " == *" postgres "* ]] && ! psql -q "$PGDSN" -c 'SELECT 1' >/dev/null 2>&1; then
  echo "bench: PostgreSQL at $PGDSN does not answer: postgres rows skipped (set BROADSHEET_TEST_POSTGRES_DSN)" >&2
  BACKENDS=${BACKENDS//postgres/}
fi

# farm N GEN: (re)starts the farm serving N feeds at content generation GEN.
farm() {
  if [ -n "$farm_pid" ]; then kill "$farm_pid"; wait "$farm_pid" 2>/dev/null || true; farm_pid=""; fi
  "$tmp/feedfarm" -n "$1" -gen "$2" -addr "$farm_addr" >"$tmp/farm.log" 2>&1 &
  farm_pid=$!
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "http://$farm_addr/stats" && return 0
    kill -0 "$farm_pid" 2>/dev/null || { cat "$tmp/farm.log" >&2; die "feed farm exited"; }
    sleep 0.05
  done
  die "feed farm did not answer within 10 s"
}

# config N BACKEND SCHEDULE DIR: writes DIR/config.yaml for N farm feeds.
config() {
  local n=$1 backend=$2 sched=$3 dir=$4
  {
    if [ "$backend" = sqlite ]; then
      printf 'storage:\n  driver: sqlite\n  path: %s/bench.db\n' "$dir"
    else
      printf 'storage:\n  driver: postgres\n  dsn: "%s&search_path=%s"\n' "$PGDSN" "$5"
    fi
    printf 'schedule: "%s"\nserver:\n  listen: 127.0.0.1:%d\n  base_url: http://127.0.0.1:%d/\n' "$sched" $((PORT + 1)) $((PORT + 1))
    printf 'fetch:\n  workers: %d\n  per_host: 0\n  allow_private_networks: true\nlog:\n  level: warn\nsources:\n' "$WORKERS"
    awk -v n="$n" -v a="$farm_addr" 'BEGIN { for (i = 0; i < n; i++) printf "  - name: feed-%d\n    url: http://%s/feeds/%d.xml\n", i, a, i }'
  } >"$dir/config.yaml"
}

# pass DIR LABEL: one `broadsheet fetch`; sets w (wall s) and r (peak RSS MB).
pass() {
  local dir=$1 label=$2 env=()
  if [ "$PROFILE" = 1 ]; then env=(BROADSHEET_CPUPROFILE="$dir/$label.cpu" BROADSHEET_HEAPPROFILE="$dir/$label.heap"); fi
  local rc=0
  env "${env[@]}" /usr/bin/time -f '%e %M' -o "$dir/$label.time" \
    "$tmp/broadsheet" fetch --config "$dir/config.yaml" >"$dir/$label.out" 2>"$dir/$label.err" || rc=$?
  # Exit 1 with its summary line is some sources failing (a loaded
  # machine's timeouts): counted and shown, not fatal.
  summary=$(grep -E '^[0-9]+ sources: ' "$dir/$label.out" || true)
  if [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ -z "$summary" ]; }; then
    tail -5 "$dir/$label.err" >&2; tail -5 "$dir/$label.out" >&2; die "broadsheet fetch ($label) failed"
  fi
  if [ "$rc" -ne 0 ]; then
    echo "bench: $label: $summary" >&2
    awk 'NR > 1 && $NF != "ok" && $NF != "modified" && NF > 3' "$dir/$label.out" | head -3 >&2
  fi
  read -r w r <<<"$(tail -1 "$dir/$label.time" | awk '{printf "%.2f %.0f\n", $1, $2 / 1024}')"
}

json() { sed -n 's/^RESULT //p' | /usr/bin/python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(r['wall_s'], round(r['peak_rss_mb']), r['items'])"; }

echo "broadsheet scale bench on $(nproc) cores (load average $(cut -d' ' -f1 /proc/loadavg)), $WORKERS workers, farm $farm_addr"
printf '\n%7s %-9s %-8s %9s %8s %9s %7s\n' feeds backend pass "wall s" ratio "items/s" "RSS MB"
profiles=()
for n in $NS; do
  farm "$n" 0
  read -r gwall grss gitems <<<"$("$tmp/gofeedbase" -base "http://$farm_addr" -n "$n" -workers "$WORKERS" -passes 1 -mem-rounds 0 | json)"
  [ -n "$gwall" ] || die "gofeed baseline failed"
  printf '%7d %-9s %-8s %9.2f %8s %9.0f %7d\n' "$n" gofeed full "$gwall" 1.00 "$(awk -v i="$gitems" -v w="$gwall" 'BEGIN {print i / w}')" "$grss"
  for backend in $BACKENDS; do
    dir=$tmp/$backend-$n; mkdir -p "$dir"
    schema=""
    if [ "$backend" = postgres ]; then
      schema=bench_scale_$$_$n; schemas+=("$schema")
      psql -q "$PGDSN" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
    fi
    config "$n" "$backend" "@every ${CYCLE}s" "$dir" "$schema"
    farm "$n" 0
    pass "$dir" full
    printf '%7d %-9s %-8s %9.2f %8.2f %9.0f %7d\n' "$n" "$backend" full "$w" "$(awk -v g="$gwall" -v w="$w" 'BEGIN {print g / w}')" "$(awk -v i="$gitems" -v w="$w" 'BEGIN {print i / w}')" "$r"
    farm "$n" 1
    pass "$dir" changed
    printf '%7d %-9s %-8s %9.2f %8.2f %9s %7d\n' "$n" "$backend" changed "$w" "$(awk -v g="$gwall" -v w="$w" 'BEGIN {print w / g}')" - "$r"
    pass "$dir" 304
    printf '%7d %-9s %-8s %9.2f %8s %9s %7d\n' "$n" "$backend" 304 "$w" - - "$r"
    [ "$PROFILE" = 1 ] && [ "$backend" = sqlite ] && profiles+=("$dir/full")
  done

  if [ "$DAEMON" = 1 ] && [[ " $BACKENDS " == *" sqlite "* ]]; then
    dir=$tmp/sqlite-$n
    env=()
    [ "$PROFILE" = 1 ] && env=(BROADSHEET_HEAPPROFILE="$dir/daemon.heap" BROADSHEET_HEAPPROFILE_AFTER=$((5 + 3 * CYCLE))s)
    env "${env[@]}" "$tmp/broadsheet" run --config "$dir/config.yaml" >"$dir/daemon.out" 2>"$dir/daemon.err" &
    daemon_pid=$!
    rss() { awk -v k="$1:" '$1 == k {printf "%.0f", $2 / 1024}' "/proc/$daemon_pid/status"; }
    t0=$(date +%s.%N)
    at() { local left; left=$(awk -v t0="$t0" -v s="$1" -v now="$(date +%s.%N)" 'BEGIN {print t0 + s - now}'); awk -v l="$left" 'BEGIN {exit !(l > 0)}' && sleep "$left"; kill -0 "$daemon_pid" 2>/dev/null || { tail -5 "$dir/daemon.err" >&2; die "daemon exited"; }; }
    at 10; r10=$(rss VmRSS)
    at $((10 + 3 * CYCLE)); r3=$(rss VmRSS); hwm=$(rss VmHWM)
    kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""
    printf '%7d %-9s %-8s RSS at 10 s %d MB, after 3 cycles of %ds %d MB, peak %d MB\n' "$n" sqlite daemon "$r10" "$CYCLE" "$r3" "$hwm"
    [ "$PROFILE" = 1 ] && profiles+=("$dir/daemon")
  fi
done

for p in "${profiles[@]}"; do
  if [ -f "$p.cpu" ]; then echo; echo "== CPU $p"; go tool pprof -top -nodecount=20 "$tmp/broadsheet" "$p.cpu" 2>/dev/null | sed -n '1,26p'; fi
  if [ -f "$p.heap" ]; then
    echo; echo "== heap in use $p"; go tool pprof -top -sample_index=inuse_space -nodecount=15 "$tmp/broadsheet" "$p.heap" 2>/dev/null | sed -n '1,21p'
    echo; echo "== heap allocated $p"; go tool pprof -top -sample_index=alloc_space -nodecount=15 "$tmp/broadsheet" "$p.heap" 2>/dev/null | sed -n '1,21p'
  fi
done

#!/usr/bin/env bash
# Load benchmark of the republished /feed.atom: the real publish handler
# (real SQLite store, 100 items) beside a static file of the same bytes
# served by a plain Go http.FileServer, in the same run, with wrk. Full
# responses and 304s; requests/s, p99 latency and the ratio to the static
# file. Goal: at least 80% of the static file's throughput.
#
# The two servers are measured in alternation, ROUNDS times each, and the
# median round is reported, so that load from other processes on the
# machine skews both alike.
#
#   bash bench/publish/run.sh    # DURATION=5s ROUNDS=3 CONNS=32 THREADS=2 ITEMS=100
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ITEMS=${ITEMS:-100}

if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null \
    || { $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null; }
fi

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/benchserver" ./bench/publish
"$tmp/benchserver" -items "$ITEMS" -dir "$tmp" >"$tmp/ready" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  [ -s "$tmp/ready" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$tmp/ready" ] || { echo "bench: server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }

ready=$(cat "$tmp/ready")
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$ready"; }
pub=$(field publish)
static=$(field static)
bytes=$(field bytes)
etag=$(field etag)
lastmod=$(sed -n 's/.*static_lastmod="\([^"]*\)".*/\1/p' <<<"$ready")

# Sanity: both answer 200 with the same bytes, and their 304s work.
cmp <(curl -sf "http://$pub/feed.atom") <(curl -sf "http://$static/feed.atom") \
  || { echo "bench: the two servers serve different bytes" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "http://$pub/feed.atom")" = 304 ] \
  || { echo "bench: publish handler does not answer 304" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lastmod" "http://$static/feed.atom")" = 304 ] \
  || { echo "bench: file server does not answer 304" >&2; exit 1; }

# measure URL [header]: prints "requests/s p99_ms".
measure() {
  local url=$1; shift
  local args=()
  [ $# -gt 0 ] && args=(-H "$1")
  wrk -t1 -c4 -d1s "${args[@]}" "$url" >/dev/null # warm up
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}" "$url")
  if grep -q "Non-2xx or 3xx" <<<"$out"; then
    echo "bench: errors from $url:" >&2; echo "$out" >&2; exit 1
  fi
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
        printf "%.3f", v}' <<<"$out")
  echo "$rps $p99"
}

# median FILE: the median line of "requests/s p99_ms" lines, by requests/s.
median() { sort -n -k1,1 "$1" | awk '{l[NR]=$0} END {print l[int((NR+1)/2)]}'; }

echo "broadsheet /feed.atom: $ITEMS items, $bytes bytes; wrk -t$THREADS -c$CONNS -d$DURATION, median of $ROUNDS alternating rounds, on $(nproc) cores (load average $(cut -d' ' -f1 /proc/loadavg))"
printf '\n%-10s %-28s %12s %10s %8s\n' "response" "server" "requests/s" "p99 ms" "ratio"
for kind in full 304 gzip; do
  : >"$tmp/s.$kind"; : >"$tmp/p.$kind"
  for _ in $(seq 1 "$ROUNDS"); do
    case $kind in
      full) measure "http://$static/feed.atom" >>"$tmp/s.$kind"
            measure "http://$pub/feed.atom" >>"$tmp/p.$kind" ;;
      304)  measure "http://$static/feed.atom" "If-Modified-Since: $lastmod" >>"$tmp/s.$kind"
            measure "http://$pub/feed.atom" "If-None-Match: $etag" >>"$tmp/p.$kind" ;;
      # What feed readers get: they ask for gzip, which http.FileServer
      # does not offer, so the static row is the identity file again.
      gzip) measure "http://$static/feed.atom" "Accept-Encoding: gzip" >>"$tmp/s.$kind"
            measure "http://$pub/feed.atom" "Accept-Encoding: gzip" >>"$tmp/p.$kind" ;;
    esac
  done
  read -r srps sp99 <<<"$(median "$tmp/s.$kind")"
  read -r prps pp99 <<<"$(median "$tmp/p.$kind")"
  ratio=$(awk -v a="$prps" -v b="$srps" 'BEGIN {printf "%.2f", a / b}')
  printf '%-10s %-28s %12.0f %10s %8s\n' "$kind" "http.FileServer (static)" "$srps" "$sp99" "1.00"
  printf '%-10s %-28s %12.0f %10s %8s\n' "$kind" "publish.Handler" "$prps" "$pp99" "$ratio"
  if [ "$kind" != gzip ]; then
    awk -v r="$ratio" -v k="$kind" 'BEGIN { printf "  %s: %s responses at %.0f%% of the static file (goal 80%%)\n", (r < 0.8 ? "below the goal" : "goal met"), k, r*100 }'
  fi
done

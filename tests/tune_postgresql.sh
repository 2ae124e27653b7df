#!/bin/sh
# Starts a throwaway PostgreSQL server (initdb into a temporary folder, listening on 127.0.0.1
# only), runs two tune workers on one study at once, kills a third in the middle of a trial, and
# checks the stored trials: 40 complete, 1 failed, numbers 0..40 each used once; runs queued trials
# and a total-trial limit in two workers, and retries a killed worker's trial; then checks the
# schema version and its migration, forges values with psql and checks how they read back.
# Usage: tune_postgresql.sh TUNE_WORKER. Exit 77 (skipped) when PostgreSQL cannot be installed.
set -eu
worker=$1

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(find_bin)
if [ -z "$bin" ] && [ "$(id -u)" -eq 0 ]; then
  echo "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q --no-install-recommends postgresql ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends postgresql; }; } >/dev/null 2>&1 || true
  bin=$(find_bin)
fi
if [ -z "$bin" ]; then
  echo "skipped: no PostgreSQL server (sudo apt-get install postgresql)"
  exit 77
fi

# The server refuses to run as root: as root, run it as nobody.
tmp=$(mktemp -d /tmp/descent_pg.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$tmp"
  as_server() { runuser -u nobody -- "$@"; }
else
  as_server() { "$@"; }
fi
hang=""
cleanup() {
  [ -n "$hang" ] && kill -9 "$hang" 2>/dev/null || true
  as_server "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

as_server "$bin/initdb" -D "$tmp/data" -U tune --auth=trust -E UTF8 >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log"; exit 1; }
started=""
for try in 1 2 3 4 5; do
  port=$((20000 + ($$ * 7 + try * 997) % 30000))
  if as_server "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
       -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp" start >/dev/null 2>&1; then
    started=yes
    break
  fi
done
[ -n "$started" ] || { cat "$tmp/server.log"; echo "error: the server did not start" >&2; exit 1; }
url="postgresql://tune@127.0.0.1:$port/postgres"
echo "server on 127.0.0.1:$port"

# two_workers ARGS...: "$worker" ARGS 1 and "$worker" ARGS 2 at once; fails if either does.
two_workers() {
  "$worker" "$@" 1 &
  a=$!
  "$worker" "$@" 2 &
  b=$!
  wait "$a"
  wait "$b"
}
# kill_mid_trial STUDY: a worker on STUDY dies with SIGKILL in the middle of its trial.
kill_mid_trial() {
  "$worker" hang "$url" "$1" >"$tmp/hang.out" &
  hang=$!
  for i in $(seq 1 100); do
    grep -q running "$tmp/hang.out" 2>/dev/null && break
    sleep 0.1
  done
  grep running "$tmp/hang.out"
  kill -9 "$hang"
  wait "$hang" 2>/dev/null || true
  hang=""
}

# Two workers at once on one study; then a third dies in the middle of its trial.
two_workers run "$url" shared 20
kill_mid_trial shared

"$worker" check "$url" shared 40 1

# Queued trials and a total-trial limit across two processes: 10 queued, each run once, and
# exactly 30 trials in all. Then a worker killed mid-trial has it retried with the same x.
"$worker" enqueue "$url" queue 10
two_workers total "$url" queue 30
"$worker" check-total "$url" queue 30 10
kill_mid_trial retry
"$worker" total "$url" retry 3 1
"$worker" check-total "$url" retry 3 0 >"$tmp/retry.out"
grep -q "1 retries" "$tmp/retry.out" || { cat "$tmp/retry.out"; echo "error: the dead worker's trial was not retried" >&2; exit 1; }

# The database records schema version 2. One from before versions were recorded (no descent_meta)
# opens as version 1 and is migrated; one of a newer version is refused, naming it and both
# versions.
psql() { "$bin/psql" -q -v ON_ERROR_STOP=1 "$url" -c "$1"; }
version() { "$bin/psql" -qtA -v ON_ERROR_STOP=1 "$url" -c "SELECT value FROM descent_meta WHERE key = 'schema_version'"; }
[ "$(version)" = 2 ] || { echo "error: schema version '$(version)', not 2" >&2; exit 1; }
psql "DROP TABLE descent_meta; DROP TABLE fixed_params; DROP TABLE retries"
"$worker" check "$url" shared 40 1 >/dev/null
[ "$(version)" = 2 ] || { echo "error: a database without a version got '$(version)', not 2" >&2; exit 1; }
# expect_refused WHAT PATTERN: the worker's check fails, with an error matching PATTERN.
expect_refused() {
  if "$worker" check "$url" shared 40 1 >/dev/null 2>"$tmp/refused.err"; then
    echo "error: $1 was read without an error" >&2
    exit 1
  fi
  grep -q "$2" "$tmp/refused.err" ||
    { cat "$tmp/refused.err"; echo "error: the error about $1 does not name it" >&2; exit 1; }
}
psql "UPDATE descent_meta SET value = '3' WHERE key = 'schema_version'"
expect_refused "a database of schema version 3" \
  "PostgreSQL at '$url' has schema version 3; this build of descent reads versions 1 to 2"
psql "UPDATE descent_meta SET value = '2' WHERE key = 'schema_version'"

# Values read back are checked as SQLite's are: an infinite result reads back as itself (not 0),
# and a forged parameter outside its space is refused, naming the study, trial and parameter.
trial_id="(SELECT id FROM trials WHERE number = 1 AND study_id = (SELECT id FROM studies WHERE name = 'shared'))"
psql "UPDATE trials SET value = '-Infinity' WHERE id = $trial_id"
"$worker" check "$url" shared 40 1 >"$tmp/check.out"
grep -q "best trial 1, value -inf," "$tmp/check.out" || { cat "$tmp/check.out"; echo "error: -Infinity did not read back" >&2; exit 1; }
psql "UPDATE params SET value = 7 WHERE name = 'x' AND trial_id = $trial_id"
expect_refused "a parameter outside its space" \
  'study "shared", trial 1, parameter "x": value 7 is outside'
echo "1 passed, 0 failed"

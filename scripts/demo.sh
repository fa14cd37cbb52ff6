#!/usr/bin/env bash
# The main job on the local sandbox, from a fresh machine: installs what is missing, starts the
# sandbox (legacy source + target MariaDB with the payments data at --scale 1, two instances of the
# payment service), puts steady checkout load on the service, and migrates it with zero downtime:
# payctl migrate --yes (assess, provision, replicate, verify, shift traffic in gated steps, write
# flip). Ends with a summary: rows copied, lag, verify, the write pause, and the load's results.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
payctl() { node bin/run.js "$@"; }
reports=.payctl/reports
mkdir -p "$reports"

payctl sandbox up --scale "${PAYCTL_SCALE:-1}" --seed "${PAYCTL_SEED:-1}"
payctl config validate
payctl assess --format html --out "$reports/assessment.html"
payctl assess --format markdown --out "$reports/assessment.md"

# Steady checkout traffic for the whole migration: every failed request counts.
# node itself, not the payctl() function: $! must be its pid for the signal below to reach it
node bin/run.js load --scenario checkout --rate "${PAYCTL_DEMO_RATE:-20}" --out "$reports/load.json" > "$reports/load.txt" 2>"$reports/load.err" &
load=$!
load_rc=0
stop_load() {
  # SIGTERM: a background job of a non-interactive shell starts with SIGINT ignored
  kill -TERM "$load" 2>/dev/null || true
  if wait "$load"; then load_rc=0; else load_rc=$?; fi
}
trap stop_load EXIT

payctl migrate --yes

trap - EXIT
stop_load
# With the load stopped, reverse replication (target -> source) is caught up within a moment:
# both sides must hold the same rows.
payctl verify
payctl status
echo
echo "== Load during the migration (payctl load) =="
cat "$reports/load.txt"
echo
if [ "$load_rc" -ne 0 ]; then
  echo "The load run failed its thresholds (exit $load_rc): see $reports/load.txt and $reports/load.err." >&2
  exit "$load_rc"
fi
echo "Writes and reads are on the target now; reverse replication keeps the source current."
echo "Try: payctl rollback   (back to the source, no write lost)   |   payctl finalize   (stop reverse replication)"

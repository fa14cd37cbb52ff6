#!/usr/bin/env bash
# Installs what payctl and its tests need, skipping what is already there:
#   - MariaDB server and client (the sandbox runs private mariadbd processes; no system service is used)
#   - Chromium, headless, for the test that opens the HTML assessment report
#   - node modules (npm ci), which also builds dist/
# Used by the README's set-up and by .ci/run, so a green CI proves the README.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 3; }

# --- Node -------------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js 20.19 or newer is needed: https://nodejs.org (or your package manager)."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $(node --version) is too old; payctl needs 20.19 or newer."

# --- MariaDB (sandbox servers) ----------------------------------------------------------
find_mariadbd() {
  command -v mariadbd 2>/dev/null && return 0
  local d
  for d in /usr/sbin /usr/local/sbin /usr/local/mysql/bin /opt/homebrew/bin /usr/local/bin; do
    [ -x "$d/mariadbd" ] && { echo "$d/mariadbd"; return 0; }
  done
  return 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if find_mariadbd >/dev/null && command -v mariadb-install-db >/dev/null && command -v mariadb >/dev/null; then
  say "MariaDB: $("$(find_mariadbd)" --version | sed 's/^.*Ver //')"
elif command -v apt-get >/dev/null; then
  say "installing mariadb-server and mariadb-client with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq || die "apt-get update failed; run it as root, then rerun this script."
  # the package may try to start a system service; payctl does not use it
  as_root apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null \
    || die "apt-get install mariadb-server failed; install it by hand (sudo apt-get install -y mariadb-server) and rerun."
  find_mariadbd >/dev/null || die "mariadbd still not found after installing mariadb-server."
elif command -v brew >/dev/null; then
  say "installing mariadb with Homebrew"
  brew install mariadb
else
  die "MariaDB is needed for the local sandbox. Install the mariadb-server package (Debian/Ubuntu: sudo apt-get install -y mariadb-server; macOS: brew install mariadb) and rerun."
fi

# --- Chromium (headless; the tests open the HTML assessment report in it) ----------------------
if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
  say "Chromium: $(chromium --version 2>/dev/null || /usr/bin/chromium --version)"
elif command -v apt-get >/dev/null; then
  say "installing chromium with apt-get (for the HTML report test)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq || die "apt-get update failed; run it as root, then rerun this script."
  as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || die "apt-get install chromium failed; install it by hand (sudo apt-get install -y chromium) and rerun."
else
  say "Chromium not found: the HTML report test needs it (Debian/Ubuntu: sudo apt-get install -y chromium); payctl itself does not."
fi

# --- node modules (prepare builds dist/) -------------------------------------------------
say "installing node modules (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
say "set-up done"

#!/usr/bin/env bash
# The main job on the local sandbox, from a fresh machine: installs what is missing, starts the
# sandbox (legacy source + target MariaDB, payments data at --scale 1), and runs the payctl phases
# that exist so far against it: assess (reports in .payctl/reports/), provision, replicate and verify.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
payctl() { node bin/run.js "$@"; }
payctl sandbox up --scale "${PAYCTL_SCALE:-1}" --seed "${PAYCTL_SEED:-1}"
payctl config validate
payctl inspect --side source --summary
mkdir -p .payctl/reports
payctl assess --format html --out .payctl/reports/assessment.html
payctl assess --format markdown --out .payctl/reports/assessment.md
payctl provision
payctl inspect --side target --summary
payctl replicate --until caught-up
payctl verify
payctl status
payctl sandbox status

#!/bin/bash
# Demo: live migration. A guest that prints a heartbeat and dirties 64 MiB
# runs on one ferry; a second ferry waits with -incoming; the guest moves
# while it runs, the statistics are shown, the output continues on the
# destination, and the guest finally checks that every page survived.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
python3 scripts/demo_migration.py build/ferry build/guests/demo.elf

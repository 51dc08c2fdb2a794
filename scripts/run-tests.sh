#!/usr/bin/env bash
# Set-up command 2: run every test tier that this machine can run.
#   - unit and integration tests, including the virtual-key tier (OpenSK behind FUSE,
#     real ctap-hid-fido2, real ssh-keygen/ssh/sshd/ssh-agent);
#   - the hardware tier runs only when SKSET_HW_DEVICE names a real key (/dev/hidrawN),
#     and says so when it is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
if [[ ! -e /dev/fuse ]]; then
  echo "warning: /dev/fuse is missing; the virtual-key tests will report themselves skipped" >&2
fi
cargo build --workspace --all-targets --quiet
cargo test --workspace --no-fail-fast -- --test-threads="${SKSET_TEST_THREADS:-4}"

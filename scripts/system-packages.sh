#!/usr/bin/env bash
# Installs the Debian packages skset's build and tests need, when they are missing.
# Sourced by try-skset.sh and run-tests.sh; safe to run again (installs nothing twice).
set -euo pipefail

needed=(
  libudev-dev      # hidapi (through ctap-hid-fido2) links libudev
  pkg-config       # finds libudev at build time
  fuse3            # fusermount3 and /dev/fuse for the virtual security key
  openssh-client   # ssh, ssh-keygen, ssh-agent: the judges of every file skset writes
  openssh-server   # sshd on loopback for the login tests
  tmux             # drives the wizard like a person would in the end-to-end test
)

missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed. Install Rust (1.89 or later) with rustup: https://rustup.rs" >&2
  exit 2
fi

#!/usr/bin/env bash
# Prints the path of a Chromium that tests/html_report.rs can drive headless, installing
# Debian's `chromium` package first when there is none. The test renders the real pages
# because string checks cannot see a script that breaks; the browser comes from the
# distribution's package because CI machines cannot fetch a browser build of their own.
# Idempotent; the path is the last line of stdout. CONFORM_CHROMIUM names another binary.
set -euo pipefail

if [ -n "${CONFORM_CHROMIUM:-}" ]; then
  if [ -x "$CONFORM_CHROMIUM" ]; then
    echo "$CONFORM_CHROMIUM"
    exit 0
  fi
  echo "CONFORM_CHROMIUM=$CONFORM_CHROMIUM is not an executable file" >&2
  exit 1
fi

browser=/usr/bin/chromium
if [ -x "$browser" ]; then
  echo "$browser"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  # -n: fail at once rather than wait for a password nobody will type.
  as_root() { sudo -n "$@"; }
else
  cat >&2 <<MSG
scripts/chromium.sh: there is no $browser, and installing it needs root or sudo.
Install Debian's package:  apt-get install --no-install-recommends chromium
or point CONFORM_CHROMIUM at a Chromium or Chrome binary you already have.
MSG
  exit 1
fi

# apt's chatter goes to stderr, so the path stays the last line of stdout. The package lists
# may be missing on a fresh machine, or stale (their files gone from the mirror): refresh them
# first when they know no chromium, and once more if the install still fails.
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
  as_root apt-get update >&2
fi
if ! as_root apt-get install -y --no-install-recommends chromium >&2; then
  as_root apt-get update >&2
  as_root apt-get install -y --no-install-recommends chromium >&2
fi

if [ ! -x "$browser" ]; then
  echo "scripts/chromium.sh: apt-get installed chromium, but there is no $browser" >&2
  exit 1
fi
echo "$browser"

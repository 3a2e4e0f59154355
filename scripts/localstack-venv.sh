#!/usr/bin/env bash
# Creates target/localstack-venv with LocalStack in host mode (no Docker), for
# `cargo xtask conformance --target localstack`. LocalStack needs Python >= 3.12; the machine's
# python3 is older, so this looks for a newer interpreter on PATH and then under pyenv.
# Idempotent: a venv that already imports localstack is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/localstack-venv
version=2026.3.0
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import localstack.runtime.main' 2>/dev/null; then
  exit 0
fi

new_enough() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
python=""
for candidate in python3.14 python3.13 python3.12 python3; do
  if command -v "$candidate" >/dev/null && new_enough "$(command -v "$candidate")"; then
    python=$(command -v "$candidate"); break
  fi
done
if [ -z "$python" ] && command -v pyenv >/dev/null; then
  for dir in $(ls -d "$(pyenv root)"/versions/3.1[2-9]* 2>/dev/null | sort -V -r); do
    if [ -x "$dir/bin/python3" ] && new_enough "$dir/bin/python3"; then python="$dir/bin/python3"; break; fi
  done
fi
if [ -z "$python" ]; then
  echo "error: LocalStack needs Python >= 3.12 and none was found on PATH or under pyenv." >&2
  echo "  help: install one (for example \`pyenv install 3.13\`) and run this script again." >&2
  exit 1
fi

rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" "localstack-core[runtime]==$version"
# The runtime extra leaves these unpinned or too new for this release; these bounds are the
# ones LocalStack $version was seen to start with.
"${pip[@]}" 'cbor2<6' 'pyopenssl<26' 'cryptography>=45.0.7,<47' service-identity
"$venv/bin/python" -c 'import localstack.runtime.main'
echo "LocalStack $version ready in $venv (python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'))"

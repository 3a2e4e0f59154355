#!/usr/bin/env bash
# Creates target/moto-venv with moto's server, for the tests that record against it.
# Idempotent: a venv that already has moto_server is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/moto-venv
if [ -x "$venv/bin/moto_server" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
echo "moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') ready in $venv"

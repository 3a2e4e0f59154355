#!/usr/bin/env bash
# Creates target/sdk-venv with boto3, for the SDK gate (tests/sdk_boto3.rs). Idempotent:
# a venv that already imports boto3 is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/sdk-venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'boto3==1.44.5'
"$venv/bin/python" -c 'import boto3; print("boto3", boto3.__version__, "ready in target/sdk-venv")'

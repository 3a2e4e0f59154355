#!/usr/bin/env bash
# Creates target/sdk-venv with boto3 and the AWS CLI v1, for the SDK gates
# (tests/sdk_boto3.rs, tests/sdk_cli.rs). Idempotent: a venv that already imports boto3 and
# has the pinned CLI is left as it is; one that lacks either gets what it lacks. Gates that
# run at once wait for each other here (flock), so only one installs.
#
# awscli 1.46.x bundles its own botocore (awscli.botocore) and needs none from PyPI, so it
# leaves boto3's botocore (>=1.44.5,<1.45 for boto3 1.44.5) alone; the 1.45.x line pins
# botocore 1.43.x, which boto3 1.44.5 refuses.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/sdk-venv
boto3_pin='boto3==1.44.5'
awscli_version=1.46.3

ready() {
  [ -x "$venv/bin/python" ] && [ -x "$venv/bin/aws" ] \
    && "$venv/bin/python" -c 'import boto3' 2>/dev/null \
    && compgen -G "$venv/lib/python*/site-packages/awscli-$awscli_version.dist-info" >/dev/null
}

ready && exit 0
mkdir -p target
exec 9>target/sdk-venv.lock
flock 9
ready && exit 0

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
"$venv/bin/python" -c 'import boto3' 2>/dev/null || "${pip[@]}" "$boto3_pin"
"${pip[@]}" "awscli==$awscli_version"
"$venv/bin/python" -c 'import boto3, awscli; print("boto3", boto3.__version__, "and awscli", awscli.__version__, "ready in target/sdk-venv")'

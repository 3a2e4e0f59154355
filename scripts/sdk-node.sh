#!/usr/bin/env bash
# Installs the JavaScript SDK v3 STS client, pinned by scripts/sdk-node/package.json and its
# package-lock.json, into target/sdk-node with `npm ci`, for the SDK gate (tests/sdk_js.rs).
# Uses the machine's node and npm (node >= 20). Idempotent: an install made from the same
# lock file is left as it is. Gates that run at once wait for each other here (flock).
set -euo pipefail
cd "$(dirname "$0")/.."
src=scripts/sdk-node
dir=target/sdk-node
stamp="$dir/node_modules/.conform-package-lock.json"

ready() {
  [ -f "$dir/node_modules/@aws-sdk/client-sts/package.json" ] && cmp -s "$src/package-lock.json" "$stamp"
}

ready && exit 0
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "scripts/sdk-node.sh: $tool is not installed" >&2; exit 1; }
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "scripts/sdk-node.sh: node $(node --version) is too old; @aws-sdk/client-sts needs 20 or newer" >&2
  exit 1
fi
mkdir -p "$dir"
exec 9>target/sdk-node.lock
flock 9
ready && exit 0

cp "$src/package.json" "$src/package-lock.json" "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$src/package-lock.json" "$stamp"
node -e 'const p = require(process.argv[1]); console.log(p.name, p.version, "ready in target/sdk-node")' \
  "$PWD/$dir/node_modules/@aws-sdk/client-sts/package.json"

#!/usr/bin/env bash
# How action.yml gets a rekon to run, without building it on every run.
#   INPUT_VERSION set (e.g. 0.1.0): that release from the npm registry (published with provenance), into
#     $RUNNER_TEMP/rekon. Any version spec npm takes after "rekon@" works (a tarball: file:/path/rekon.tgz).
#   INPUT_VERSION empty: the action's own source ($GITHUB_ACTION_PATH). This step prints a cache key made
#     of what the build reads (lockfile, TypeScript config, build scripts, sources, schemas) and the Node
#     major; action.yml restores dist/ and node_modules/ by that key and builds only on a miss (mode=build).
# Writes to $GITHUB_OUTPUT: mode (release | source), bin (the rekon bin.js to run), key (source mode).
set -euo pipefail

ACTION_PATH="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH must be the folder of the action}"
RUNNER_TEMP="${RUNNER_TEMP:?RUNNER_TEMP must be set}"
OUT="${GITHUB_OUTPUT:?GITHUB_OUTPUT must be set}"
version="${INPUT_VERSION:-}"

if [ -n "$version" ]; then
  case "$version" in
    *[[:space:]]* | -*) echo "rekon action: version must be a rekon release such as 0.1.0, got \"$version\"" >&2; exit 1 ;;
  esac
  prefix="$RUNNER_TEMP/rekon"
  # No install scripts: rekon and its dependencies need none.
  npm install --prefix "$prefix" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error "rekon@$version"
  bin="$prefix/node_modules/rekon/dist/reconciler/bin.js"
  [ -f "$bin" ] || { echo "rekon action: rekon@$version installed no dist/reconciler/bin.js" >&2; exit 1; }
  { echo "mode=release"; echo "bin=$bin"; } >> "$OUT"
  echo "rekon action: using rekon@$version ($(node "$bin" --version))"
  exit 0
fi

cd "$ACTION_PATH"
# Everything `npm ci && npm run build` reads, in a stable order; a change to any of it is a new key.
hash="$(
  { printf '%s\n' package.json package-lock.json tsconfig.json scripts/build.mjs scripts/build-info.mjs
    find reconciler schemas -type f \( -name '*.ts' -o -name '*.json' \) | LC_ALL=C sort
  } | while read -r f; do printf '%s  ' "$f"; sha256sum < "$f"; done | sha256sum | cut -c1-32
)"
key="rekon-build-$(uname -s)-$(uname -m)-node$(node -p 'process.versions.node.split(".")[0]')-$hash"
{ echo "mode=source"; echo "bin=$ACTION_PATH/dist/reconciler/bin.js"; echo "key=$key"; } >> "$OUT"
echo "rekon action: building from the action's source, cache key $key"

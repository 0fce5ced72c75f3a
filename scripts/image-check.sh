#!/usr/bin/env bash
# Reproduce the Dockerfile's steps without a Docker engine (CI has none), then run the result the way the
# container would: from its own folder, with production dependencies only, as the entrypoint `rekon`.
#   build stage:   npm ci, copy tsconfig/reconciler/schemas, npm run build
#   runtime stage: npm ci --omit=dev, copy dist/ and schemas/, link bin.js as `rekon`
# Then: no devDependency installed; `rekon --help`; the emulator and a plan against it; `rekon run` (the
# image's CMD) for one cycle and a SIGTERM. Everything runs with cwd=/ and an unwritable HOME, and the app
# folder is made read-only, as under readOnlyRootFilesystem.
# Keep in step with Dockerfile: a COPY added there must be added here.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rekon-image-check.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n== image-check: %s\n' "$*"; }
fail() { printf 'image-check: FAIL: %s\n' "$*" >&2; exit 1; }
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true AWS_EC2_METADATA_DISABLED=true NPM_CONFIG_UPDATE_NOTIFIER=false

step "build stage (npm ci, npm run build) in $WORK/build"
mkdir -p "$WORK/build"
cp "$REPO/package.json" "$REPO/package-lock.json" "$WORK/build/"
(cd "$WORK/build" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
cp -R "$REPO/tsconfig.json" "$REPO/reconciler" "$REPO/schemas" "$WORK/build/"
mkdir -p "$WORK/build/scripts" && cp "$REPO/scripts/build-info.mjs" "$WORK/build/scripts/"
(cd "$WORK/build" && npm run build --silent)

step "runtime stage (npm ci --omit=dev) in $WORK/app"
mkdir -p "$WORK/app" "$WORK/bin"
cp "$REPO/package.json" "$REPO/package-lock.json" "$WORK/app/"
(cd "$WORK/app" && NODE_ENV=production npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
cp -R "$WORK/build/dist" "$WORK/app/dist"
cp -R "$REPO/schemas" "$WORK/app/schemas"
chmod +x "$WORK/app/dist/reconciler/bin.js"
ln -s "$WORK/app/dist/reconciler/bin.js" "$WORK/bin/rekon"
for dev in typescript vitest; do  # (@types/node stays: @kubernetes/client-node depends on it)
  [ ! -e "$WORK/app/node_modules/$dev" ] || fail "devDependency $dev is in the runtime image"
done
chmod -R a-w "$WORK/app"

# As in the container: only the image's files, cwd /, no writable home, PATH finds `rekon`.
export PATH="$WORK/bin:$PATH" HOME=/nonexistent NODE_ENV=production
cd /

step "rekon --help"
rekon --help > "$WORK/help.txt" || fail "rekon --help exited $?"
grep -q "rekon run" "$WORK/help.txt" || fail "--help does not mention 'rekon run'"

step "rekon emulator --port 0, then rekon plan against it"
rekon emulator --port 0 > "$WORK/emu.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$WORK/emu.out" && break; sleep 0.1; done
URL="$(sed -n 's/^listening on //p' "$WORK/emu.out" | head -1)"
[ -n "$URL" ] || fail "the emulator did not announce its port: $(cat "$WORK/emu.out")"
export AWS_ENDPOINT_URL_REKOGNITION="$URL" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDIMAGECHECK AWS_SECRET_ACCESS_KEY=image-check-secret \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
set +e
rekon plan --manifests "$REPO/manifests" --policy "$REPO/deploy/policy.yaml" > "$WORK/plan.txt" 2> "$WORK/plan.err"
code=$?
set -e
[ "$code" -eq 2 ] || fail "plan exited $code (want 2: deletions pending): $(cat "$WORK/plan.err")"
grep -q "Plan: 7 to delete" "$WORK/plan.txt" || fail "unexpected plan: $(tail -3 "$WORK/plan.txt")"

step "rekon run (the image's CMD): one cycle, then SIGTERM → exit 0"
rekon run --manifests "$REPO/manifests" --policy "$REPO/deploy/policy.yaml" --listen 127.0.0.1:0 --interval 1h > "$WORK/run.out" 2> "$WORK/run.err" &
RUN=$!
PIDS+=("$RUN")
for _ in $(seq 1 200); do grep -q '"msg":"cycle finished"' "$WORK/run.err" && break; sleep 0.1; done
grep -q '"result":"ok"' "$WORK/run.err" || fail "no ok cycle: $(tail -3 "$WORK/run.err")"
kill -TERM "$RUN"
set +e
wait "$RUN"
code=$?
set -e
[ "$code" -eq 0 ] || fail "rekon run exited $code after SIGTERM"
if grep -q "image-check-secret" "$WORK/run.out" "$WORK/run.err"; then fail "a credential was logged"; fi

printf '\nimage-check: OK (runtime folder %s MB, %s packages)\n' "$(du -sm "$WORK/app" | cut -f1)" "$(find "$WORK/app/node_modules" -mindepth 1 -maxdepth 1 | wc -l)"

#!/usr/bin/env bash
# Reproduce the Dockerfile's steps without a Docker engine (CI has none), then run the result the way the
# container would: from its own folder, with production dependencies only, as the entrypoint `rekon`.
#   build stage:   npm ci, copy tsconfig/reconciler/schemas/scripts, npm run build (REVISION), npm run sbom + its check
#   deps stage:    npm ci --omit=dev
#   runtime stage: package.json, deps' node_modules, build's dist/, schemas/, the SBOM at /usr/share/rekon;
#                  bin.js linked as `rekon`
# First it checks that the Dockerfile's COPY lines are exactly the copies made here (and that
# .dockerignore lets each source through), so the two cannot drift apart unnoticed.
# Then: no devDependency installed; the SBOM in place, valid, and matching the installed node_modules; `rekon --help`; the emulator and a plan against it; `rekon run` (the
# image's CMD) for one cycle and a SIGTERM. Everything runs with cwd=/, an unwritable HOME, a PATH with
# node and rekon only (the image has no npm), a read-only app folder (readOnlyRootFilesystem), and, when
# this runs as root, as the image's numeric user 65532.
set -euo pipefail
if [ "$#" -gt 0 ]; then
  case "$1" in
    -h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "image-check: takes no arguments, got '$1' (npm run image:check; --help says what it does)" >&2; exit 2 ;;
  esac
fi
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
REVISION="image-check-$(date +%s)"

step "the Dockerfile's COPY lines are the copies this script makes"
# stage: COPY line, in Dockerfile order. A COPY added to the Dockerfile must be added here and below.
EXPECTED_COPIES="build: COPY package.json package-lock.json ./
build: COPY tsconfig.json ./
build: COPY reconciler ./reconciler
build: COPY schemas ./schemas
build: COPY scripts/build.mjs scripts/build-info.mjs scripts/sbom-check.mjs ./scripts/
deps: COPY package.json package-lock.json ./
runtime: COPY package.json ./
runtime: COPY --from=deps /app/node_modules ./node_modules
runtime: COPY --from=build /src/dist ./dist
runtime: COPY schemas ./schemas
runtime: COPY --from=build /src/sbom.cdx.json /usr/share/rekon/sbom.cdx.json"
ACTUAL_COPIES="$(awk '/^FROM /{stage=$NF} /^COPY /{print stage": "$0}' "$REPO/Dockerfile")"
if [ "$ACTUAL_COPIES" != "$EXPECTED_COPIES" ]; then
  diff <(echo "$EXPECTED_COPIES") <(echo "$ACTUAL_COPIES") >&2 || true
  fail "the Dockerfile's COPY lines (right) differ from what image-check reproduces (left)"
fi
# Every source copied from the build context exists and is let through by .dockerignore.
while read -r src; do
  [ -e "$REPO/$src" ] || fail "COPY source $src does not exist"
  grep -qxF "!$src" "$REPO/.dockerignore" || fail "COPY source $src is not re-included in .dockerignore ('!$src')"
done < <(grep -E '^COPY ' "$REPO/Dockerfile" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}' | sort -u)
grep -qE '^USER [0-9]+(:[0-9]+)?$' "$REPO/Dockerfile" || fail "USER must be numeric"
grep -qF 'dev.rekon.sbom="/usr/share/rekon/sbom.cdx.json"' "$REPO/Dockerfile" || fail "the label dev.rekon.sbom must name /usr/share/rekon/sbom.cdx.json"

step "build stage (npm ci, npm run build) in $WORK/build"
mkdir -p "$WORK/build/scripts"
cp "$REPO/package.json" "$REPO/package-lock.json" "$WORK/build/"
(cd "$WORK/build" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
cp "$REPO/tsconfig.json" "$WORK/build/"
cp -R "$REPO/reconciler" "$REPO/schemas" "$WORK/build/"
cp "$REPO/scripts/build.mjs" "$REPO/scripts/build-info.mjs" "$REPO/scripts/sbom-check.mjs" "$WORK/build/scripts/"
(cd "$WORK/build" && REKON_REVISION="$REVISION" npm run build --silent)
(cd "$WORK/build" && npm run sbom --silent && node scripts/sbom-check.mjs sbom.cdx.json)

step "deps stage (npm ci --omit=dev) in $WORK/deps"
mkdir -p "$WORK/deps"
cp "$REPO/package.json" "$REPO/package-lock.json" "$WORK/deps/"
(cd "$WORK/deps" && NODE_ENV=production npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)

step "runtime stage in $WORK/app"
mkdir -p "$WORK/app" "$WORK/bin"
cp "$REPO/package.json" "$WORK/app/"
cp -R "$WORK/deps/node_modules" "$WORK/app/node_modules"
cp -R "$WORK/build/dist" "$WORK/app/dist"
cp -R "$REPO/schemas" "$WORK/app/schemas"
# /usr/share/rekon/sbom.cdx.json in the image; $WORK/root stands for the image's root.
mkdir -p "$WORK/root/usr/share/rekon"
cp "$WORK/build/sbom.cdx.json" "$WORK/root/usr/share/rekon/sbom.cdx.json"
ln -s "$WORK/app/dist/reconciler/bin.js" "$WORK/bin/rekon"
# The image has node and nothing else from npm's world on PATH.
ln -s "$(command -v node)" "$WORK/bin/node"
[ -x "$WORK/app/dist/reconciler/bin.js" ] || fail "bin.js is not executable after npm run build"
for dev in typescript vitest; do  # (@types/node stays: @kubernetes/client-node depends on it)
  [ ! -e "$WORK/app/node_modules/$dev" ] || fail "devDependency $dev is in the runtime image"
done
grep -q "\"revision\":\"$REVISION\"" "$WORK/app/dist/build-info.json" || fail "dist/build-info.json lacks the REVISION build argument"

step "the SBOM at /usr/share/rekon/sbom.cdx.json describes the runtime's node_modules"
# Checked against the deps stage's own lockfile view: what the image runs is what the SBOM lists.
node "$REPO/scripts/sbom-check.mjs" "$WORK/root/usr/share/rekon/sbom.cdx.json" --lock "$WORK/deps/package-lock.json"
while read -r pkg; do
  v="$(node -p "require('$WORK/app/node_modules/$pkg/package.json').version")"
  grep -q "\"purl\": *\"pkg:npm/${pkg/@/%40}@$v\"" "$WORK/root/usr/share/rekon/sbom.cdx.json" || fail "the SBOM does not list $pkg@$v, which the runtime has"
done < <(node -p "Object.keys(require('$WORK/app/package.json').dependencies).join('\n')")
# Inputs for the checks, somewhere the image's user can read.
mkdir -p "$WORK/inputs"
cp -R "$REPO/manifests" "$WORK/inputs/manifests"
cp "$REPO/deploy/policy.yaml" "$WORK/inputs/policy.yaml"
chmod -R a+rX "$WORK"
chmod -R a-w "$WORK/app"

# As in the container: only the image's files, cwd /, no writable home, PATH with node and rekon only,
# and the image's user when we can switch to it.
AS_USER=()
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then AS_USER=("$(command -v setpriv)" --reuid=65532 --regid=65532 --clear-groups --); fi
cd /
in_image() { "${AS_USER[@]}" env PATH="$WORK/bin" HOME=/nonexistent NODE_ENV=production "$@"; }
# For background processes: exec, so that $! is rekon itself and a signal sent to it reaches rekon.
in_image_exec() { exec "${AS_USER[@]}" env PATH="$WORK/bin" HOME=/nonexistent NODE_ENV=production "$@"; }

step "rekon --help${AS_USER:+ (as uid 65532)}"
in_image rekon --help > "$WORK/help.txt" || fail "rekon --help exited $?"
grep -q "rekon run" "$WORK/help.txt" || fail "--help does not mention 'rekon run'"

step "rekon emulator --port 0, then rekon plan against it"
in_image_exec rekon emulator --port 0 > "$WORK/emu.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$WORK/emu.out" && break; sleep 0.1; done
URL="$(sed -n 's/^listening on //p' "$WORK/emu.out" | head -1)"
[ -n "$URL" ] || fail "the emulator did not announce its port: $(cat "$WORK/emu.out")"
export AWS_ENDPOINT_URL_REKOGNITION="$URL" AWS_ENDPOINT_URL_STS="$URL" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDIMAGECHECK AWS_SECRET_ACCESS_KEY=image-check-secret \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
set +e
in_image rekon plan --manifests "$WORK/inputs/manifests" --policy "$WORK/inputs/policy.yaml" > "$WORK/plan.txt" 2> "$WORK/plan.err"
code=$?
set -e
[ "$code" -eq 2 ] || fail "plan exited $code (want 2: deletions pending): $(cat "$WORK/plan.err")"
grep -q "Plan: 7 to delete" "$WORK/plan.txt" || fail "unexpected plan: $(tail -3 "$WORK/plan.txt")"

step "rekon run (the image's CMD): one cycle, then SIGTERM → exit 0"
in_image_exec rekon run --manifests "$WORK/inputs/manifests" --policy "$WORK/inputs/policy.yaml" --listen 127.0.0.1:0 --interval 1h > "$WORK/run.out" 2> "$WORK/run.err" &
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

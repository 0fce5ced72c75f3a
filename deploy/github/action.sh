#!/usr/bin/env bash
# The script behind action.yml. Runs in the repository checkout ($GITHUB_WORKSPACE) with the variables
# GitHub sets (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_BASE_REF, RUNNER_TEMP) and the INPUT_* ones
# action.yml passes. Exit status: 1 when validation, diff or plan fails (plan exit 1 = error or
# refusal), or, with INPUT_FAIL_ON_LOOSEN=true, when the change loosens a deletion policy; 0 otherwise —
# "deletions pending" (plan exit 2) is what a pull request is for, not a failure.
set -uo pipefail

# shellcheck disable=SC2317  # called through capture "$@", which shellcheck cannot follow
rekon() { node "${REKON_BIN:?REKON_BIN must point at the rekon bin.js}" "$@"; }
cd "${GITHUB_WORKSPACE:-.}" || exit 1
RUNNER_TEMP="${RUNNER_TEMP:-$(mktemp -d)}"

manifests="${INPUT_MANIFESTS:-manifests}"
policy_args=()
[ -n "${INPUT_POLICY:-}" ] && policy_args=(--policy "$INPUT_POLICY")
base="${INPUT_BASE_REF:-}"
if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then base="origin/${GITHUB_BASE_REF}"; fi
plan_file="${INPUT_PLAN_FILE:-rekon-plan.json}"
loosen_args=()
case "${INPUT_FAIL_ON_LOOSEN:-false}" in
  true) loosen_args=(--fail-on-loosen) ;;
  false) ;;
  *) echo "rekon action: fail-on-loosen must be \"true\" or \"false\", got \"${INPUT_FAIL_ON_LOOSEN}\"" >&2; exit 1 ;;
esac
comment="${INPUT_COMMENT_FILE:-}"
[ -n "$comment" ] || comment="${RUNNER_TEMP:-/tmp}/rekon-comment.md"
: > "$comment"
status=0

section() { printf '%s\n\n' "$1" >> "$comment"; }
capture() { # capture FILE CMD...: stdout to FILE, stderr kept for the job log and the comment on failure
  local out="$1"; shift
  "$@" > "$out" 2> "$out.err"
}

# 1. validate (offline)
if ! capture "$RUNNER_TEMP/rekon-validate.txt" rekon validate --manifests "$manifests" "${policy_args[@]}"; then
  section "### rekon validate: ❌ invalid manifests or policy"
  { echo '```'; cat "$RUNNER_TEMP/rekon-validate.txt.err"; echo '```'; echo; } >> "$comment"
  status=1
fi

# 2. diff (offline, from Git history)
diff_code=""
if [ -n "$base" ] && [ "$status" -eq 0 ]; then
  capture "$RUNNER_TEMP/rekon-diff.md" rekon diff --base "$base" --manifests "$manifests" "${policy_args[@]}" "${loosen_args[@]}" --output markdown
  diff_code=$?
  if [ "$diff_code" -eq 1 ]; then
    # With fail-on-loosen a loosening is exit 1 too, after the diff itself: show both.
    if grep -q "fail-on-loosen" "$RUNNER_TEMP/rekon-diff.md.err"; then
      section "### rekon diff: ❌ this change loosens a deletion policy (fail-on-loosen)"
    else
      section "### rekon diff: ❌ failed"
    fi
    if [ -s "$RUNNER_TEMP/rekon-diff.md" ]; then cat "$RUNNER_TEMP/rekon-diff.md" >> "$comment"; echo >> "$comment"; fi
    { echo '```'; cat "$RUNNER_TEMP/rekon-diff.md.err"; echo '```'; echo; } >> "$comment"
    cat "$RUNNER_TEMP/rekon-diff.md.err" >&2
    status=1
  else
    cat "$RUNNER_TEMP/rekon-diff.md" >> "$comment"
    echo >> "$comment"
  fi
fi

# 3. plan (reads AWS; saves the plan for apply after merge). The saved plan is applied with
# `rekon apply PLAN --manifests M --policy P`, and rekon checks both still hold what was planned, so the
# plan is made with an explicit policy too (built-in defaults would only ever be refused at apply).
plan_code=""
if [ "${INPUT_PLAN:-true}" = "true" ] && [ "$status" -eq 0 ] && [ -z "${INPUT_POLICY:-}" ]; then
  section "### rekon plan: ❌ no policy"
  section "The \`policy\` input is required to plan: the saved plan is applied with the same \`--manifests\` and \`--policy\`."
  echo "rekon action: the policy input is required when plan is true" >&2
  status=1
fi
if [ "${INPUT_PLAN:-true}" = "true" ] && [ "$status" -eq 0 ]; then
  capture "$RUNNER_TEMP/rekon-plan.md" rekon plan --manifests "$manifests" "${policy_args[@]}" --output markdown --out "$plan_file"
  plan_code=$?
  cat "$RUNNER_TEMP/rekon-plan.md" >> "$comment"
  if [ "$plan_code" -eq 1 ]; then
    { echo; echo '```'; tail -n 20 "$RUNNER_TEMP/rekon-plan.md.err"; echo '```'; } >> "$comment"
    status=1
  fi
fi

[ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$comment" >> "$GITHUB_STEP_SUMMARY"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "comment-file=$comment"
    [ -n "$plan_code" ] && [ -f "$plan_file" ] && echo "plan-file=$plan_file"
    echo "plan-exit-code=$plan_code"
    echo "diff-exit-code=$diff_code"
  } >> "$GITHUB_OUTPUT"
fi
exit "$status"

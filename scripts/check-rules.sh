#!/usr/bin/env bash
# Checks the Prometheus rules (promtool check rules) and runs their unit tests (promtool test rules).
# Works from any directory. Prints promtool's output only on failure, then one summary line.
# Exit status: 0 when both pass, 1 otherwise (2 when promtool is missing).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

promtool="${PROMTOOL:-promtool}"
command -v "$promtool" >/dev/null || { echo "check-rules: promtool not found (apt-get install prometheus, or set PROMTOOL)" >&2; exit 2; }

shopt -s nullglob
rule_files=(rules/*.yml)
test_files=(rules/tests/*.yml)
[ ${#rule_files[@]} -gt 0 ] || { echo "check-rules: FAILED: no rule files in rules/" >&2; exit 1; }
[ ${#test_files[@]} -gt 0 ] || { echo "check-rules: FAILED: no test files in rules/tests/" >&2; exit 1; }

failed=()
# --lint-fatal: a lint finding (duplicate rules) fails the check instead of printing FAILED with status 0.
if ! check_out=$("$promtool" check rules --lint-fatal "${rule_files[@]}" 2>&1); then
  printf '%s\n' "$check_out" >&2
  failed+=("check rules")
fi
if ! test_out=$("$promtool" test rules "${test_files[@]}" 2>&1); then
  printf '%s\n' "$test_out" >&2
  failed+=("test rules")
fi

rules=$(printf '%s\n' "$check_out" | awk '/SUCCESS: [0-9]+ rules found/ { n += $2 } END { print n + 0 }')
if [ ${#failed[@]} -eq 0 ]; then
  echo "check-rules: OK: ${rules:-?} rules in ${#rule_files[@]} file(s) valid, ${#test_files[@]} test file(s) passed"
  exit 0
fi
echo "check-rules: FAILED: $(IFS=,; echo "${failed[*]}") (${#rule_files[@]} rule file(s), ${#test_files[@]} test file(s))" >&2
exit 1

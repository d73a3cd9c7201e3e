#!/usr/bin/env bash
# Validates Kubernetes manifests offline: driftwatch's own (deploy/*.yaml) and any given files,
# e.g. the manifests `driftwatch remediation render` writes (Jobs, Deployments, Services,
# InferenceServices, Argo Workflows or Argo Server submit bodies; YAML or JSON, several documents
# per file, a JSON array, or a v1 List).
#
#   scripts/validate-manifests.sh [--files-only] [--patch FILE]... [FILE|-]...
#
#   FILE          also validate FILE ("-" = standard input)
#   --files-only  skip deploy/ (only the given files)
#   --patch FILE  FILE holds merge patches (e.g. the canary patch of an InferenceService): each
#                 document needs apiVersion and kind; required fields are not required
#   K8S_VERSION   Kubernetes version of the built-in schemas (default: kubernetes-validate's newest)
#   PROMTOOL      promtool to use (default: promtool on PATH)
#
# Checks, per document:
#  (a) built-in kinds: `kubernetes-validate --strict` (unknown fields are errors);
#  (b) ServiceMonitor, PrometheusRule: the CRDs' openAPIV3Schema (deploy/schemas/); InferenceService,
#      Argo Workflow/WorkflowTemplate and submit bodies: hand-written schemas from the Go types
#      (deploy/schemas/README.md); unknown fields are errors except where a schema preserves them;
#      kinds with no schema fail;
#  (c) PrometheusRule: `promtool check rules` on its spec;
#  (d) deploy/prometheusrule.yaml: groups identical to rules/driftwatch.rules.yml;
#  (e) values the schemas do not enumerate: restartPolicy (Jobs: OnFailure|Never), StatefulSet
#      replicas == 1, GPU requests (integer nvidia.com/gpu limits, the nvidia.com/gpu toleration and a
#      GPU node selector together), InferenceService canaryTrafficPercent 0–100 / logger URL /
#      exactly one predictor, ServiceMonitor endpoints against the Services, the tokens Secret's
#      format, the ConfigMap's driftwatch.json through `driftwatch config check` (every unknown
#      key, type error and invalid setting), no cluster-wide RBAC, the hardening of driftwatch's
#      own pod, and that kustomization.yaml lists the manifests.
#   DRIFTWATCH_BIN  driftwatch binary for the config check (default: from `swift build --show-bin-path`;
#                 build first)
#
# Output: `ok  FILE (Kind name, …)` per passing file, `FAIL FILE (Kind name): reason` per failure,
# then one summary line. Exit status: 0 all valid, 1 a failure, 2 usage or set-up error.
# The first run creates .venv-manifests/ (pip, from PyPI); later runs are offline. Works from any
# directory, as root or not.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-manifests"
requirements="kubernetes-validate>=1.37,<1.38 jsonschema>=4.18,<5 pyyaml>=6,<7"

for a in "$@"; do
  case "$a" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;; esac
done

ensure_venv() {
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements" 2>/dev/null)" = "$requirements" ] \
     && "$venv/bin/python" -c 'import kubernetes_validate, jsonschema, yaml, referencing' 2>/dev/null; then
    return 0
  fi
  echo "validate-manifests: creating .venv-manifests/ (first run; pip install from PyPI)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" || return 1
  # shellcheck disable=SC2086
  PIP_ROOT_USER_ACTION=ignore "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input $requirements || return 1
  printf '%s' "$requirements" >"$venv/.requirements"
}

command -v python3 >/dev/null || { echo "validate-manifests: python3 not found" >&2; exit 2; }
# Several runs at once (parallel tests) must not build the venv twice.
if command -v flock >/dev/null; then
  exec 9>"$root/.venv-manifests.lock"
  flock 9
  ensure_venv || { flock -u 9; echo "validate-manifests: could not create .venv-manifests/ (needs PyPI the first time)" >&2; exit 2; }
  flock -u 9
else
  ensure_venv || { echo "validate-manifests: could not create .venv-manifests/ (needs PyPI the first time)" >&2; exit 2; }
fi

# The program is the Python package scripts/validate_manifests (its own tests are in
# scripts/validate_manifests/tests, run by scripts/test.sh). It exits 2 on an internal error.
export PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}"
exec "$venv/bin/python" -m validate_manifests "$root" "$@"

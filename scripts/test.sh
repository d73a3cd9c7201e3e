#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "swift not found: install Swift 6.3 (https://www.swift.org/install/linux/)" >&2; exit 1; }
scripts/install-deps.sh test
# Alert rules: syntax (promtool check rules) and their unit tests (promtool test rules).
bash scripts/check-rules.sh
# deploy/: PrometheusRule in sync with rules/.
bash scripts/gen-prometheusrule.sh --check
# The MLflow tests run a real tracking server: MLflow from PyPI in .venv-mlflow (first run only).
bash scripts/setup-mlflow.sh >/dev/null
# The KServe peer test runs a real KServe model server: kserve and scikit-learn from PyPI in
# .venv-kserve (first run only).
bash scripts/setup-kserve.sh >/dev/null
# OpenAPI: the embedded copy in step with openapi/openapi.json, the document valid, and the live
# service fuzzed against it by schemathesis (pinned, in .venv-openapi, made on the first run).
bash scripts/gen-openapi.sh --check
bash scripts/check-openapi.sh
swift build --build-tests
# deploy/: strict Kubernetes OpenAPI and CRD schemas (kubernetes-validate in .venv-manifests, made
# from PyPI on the first run); the ConfigMap's configuration is checked by the binary just built
# (`driftwatch config check`), so this runs after the build. Then the validator's own tests.
bin="$(swift build --show-bin-path)/driftwatch"
DRIFTWATCH_BIN="$bin" bash scripts/validate-manifests.sh
DRIFTWATCH_BIN="$bin" PYTHONPATH=scripts .venv-manifests/bin/python -m unittest discover -s scripts/validate_manifests/tests -t scripts
# XCTest only (no Swift Testing suites), so the last line counts the tests that ran.
# timeout: a hung child process must not eat CI's 90 minutes.
timeout 45m swift test --skip-build --disable-swift-testing

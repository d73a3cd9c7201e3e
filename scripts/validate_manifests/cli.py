"""Command line: `python -m validate_manifests ROOT [--files-only] [--patch FILE]... [FILE|-]...`
(scripts/validate-manifests.sh passes ROOT and documents the options)."""
import glob
import os
import sys

from . import context as ctx
from . import report
from .checks import (SUBMIT_KEYS, check_argo_submit, check_config_map, check_driftwatch_pod, check_isvc,
                     check_kustomization, check_logger_targets, check_pods, check_prometheusrule, check_rbac,
                     check_servicemonitor, check_statefulset, check_tokens_secret)
from .documents import load_documents
from .driftwatch_config import DriftwatchNotFound, find_driftwatch
from .report import fail, failures, file_labels, file_order
from .schemas import load_kubernetes_schemas, validate_schema
from .util import as_dict, label_of


class UsageError(Exception):
    """A bad command line or set-up: exit status 2."""


def parse_args(args):
    """(files_only, [(path, display, is_patch)]) from the options and FILEs."""
    files_only = False
    inputs = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--files-only":
            files_only = True
        elif a == "--patch":
            if i + 1 >= len(args):
                raise UsageError("--patch needs a FILE")
            i += 1
            inputs.append((args[i], args[i], True))
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option {a} (see --help)")
        else:
            inputs.append((a, a, False))
        i += 1
    return files_only, inputs


def deploy_inputs(root):
    """deploy/*.yaml (and *.yml) but the kustomization, as (path, display, False)."""
    deploy_dir = os.path.join(root, "deploy")
    out = []
    for p in sorted(glob.glob(os.path.join(deploy_dir, "*.yaml")) + glob.glob(os.path.join(deploy_dir, "*.yml"))):
        if os.path.basename(p) in ("kustomization.yaml", "kustomization.yml"):
            continue
        out.append((p, os.path.relpath(p, root), False))
    return out


def main(argv):
    """Validates; returns the exit status (0 valid, 1 a failure, 2 usage or set-up error)."""
    if len(argv) < 1:
        print("validate-manifests: usage: python -m validate_manifests ROOT [OPTIONS] [FILE|-]...", file=sys.stderr)
        return 2
    root, args = argv[0], argv[1:]
    try:
        files_only, inputs = parse_args(args)
    except UsageError as e:
        print(f"validate-manifests: {e}", file=sys.stderr)
        return 2
    ctx.set_root(root)
    if not files_only:
        inputs = deploy_inputs(root) + inputs
    if not inputs:
        print("validate-manifests: nothing to validate (--files-only without FILEs)", file=sys.stderr)
        return 2
    report.reset()
    load_kubernetes_schemas()
    found = []

    def driftwatch():
        # Looked up once, and only when a ConfigMap holds a driftwatch configuration.
        if not found:
            found.append(find_driftwatch(root))
        return found[0]

    try:
        return _run(inputs, files_only, driftwatch)
    except DriftwatchNotFound as e:
        print(f"validate-manifests: cannot check the ConfigMap's configuration: {e}", file=sys.stderr)
        return 2


def _run(inputs, files_only, driftwatch):
    all_docs = []  # (obj, display, label, patch, path)
    for path, display, patch in inputs:
        file_order.append(display)
        file_labels.setdefault(display, [])
        docs = load_documents(path, display)
        if docs is None:
            continue
        if not docs:
            fail(display, None, "no documents")
            continue
        for n, obj in enumerate(docs):
            if not isinstance(obj, dict):
                fail(display, f"document {n + 1}", "is not a mapping")
                continue
            if all(k in obj for k in SUBMIT_KEYS) and "kind" not in obj:
                label = f"Argo submit {obj.get('resourceKind')}/{obj.get('resourceName')}"
            else:
                label = label_of(obj) if obj.get("kind") else f"document {n + 1}"
            file_labels[display].append(label)
            all_docs.append((obj, display, label, patch, path))

    full_docs = [d[0] for d in all_docs if not d[3]]
    for obj, display, label, patch, path in all_docs:
        if "kind" not in obj and all(k in obj for k in SUBMIT_KEYS):
            check_argo_submit(obj, display, label, patch)
            continue
        if not obj.get("apiVersion") or not obj.get("kind"):
            fail(display, label, "apiVersion and kind are required")
            continue
        md = as_dict(obj.get("metadata"))
        if not patch and not (md.get("name") or md.get("generateName")):
            fail(display, label, "metadata.name (or generateName) is required")
        if not validate_schema(obj, display, label, patch):
            continue
        kind = obj["kind"]
        check_pods(obj, display, label, patch)
        if kind == "StatefulSet":
            check_statefulset(obj, display, label, patch)
        if kind in ("StatefulSet", "Deployment") and not patch:
            check_driftwatch_pod(obj, display, label)
        if kind == "InferenceService":
            check_isvc(obj, display, label, patch)
            check_logger_targets(obj, display, label, full_docs)
        if kind == "ServiceMonitor":
            check_servicemonitor(obj, display, label, patch, full_docs)
        if kind == "PrometheusRule":
            check_prometheusrule(obj, display, label, patch, None if path == "-" else path)
        if kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
            check_rbac(obj, display, label)
        if kind == "Secret" and not patch:
            check_tokens_secret(obj, display, label)
        if kind == "ConfigMap":
            check_config_map(obj, display, label, driftwatch())

    if not files_only:
        check_kustomization()


    failed_files = []
    seen = set()
    for display in file_order:
        if display in seen:
            continue
        seen.add(display)
        mine = [f for f in failures if f[0] == display]
        if mine:
            failed_files.append(display)
            for _, label, msg in mine:
                print(f"FAIL {display}" + (f" ({label})" if label else "") + f": {msg}")
        else:
            print(f"ok  {display} ({', '.join(file_labels.get(display) or ['no documents'])})")
    ndocs = len(all_docs)
    if failures:
        print(f"validate-manifests: FAILED: {len(failures)} problem(s) in {len(failed_files)} of {len(seen)} file(s)")
        return 1
    print(f"validate-manifests: OK: {len(seen)} file(s), {ndocs} document(s) valid (Kubernetes {ctx.K8S_VERSION} schemas)")
    return 0

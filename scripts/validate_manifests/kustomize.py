"""Rendering a kustomization: `kubectl kustomize DIR` when kubectl is there, else a built-in
renderer for the few features driftwatch's kustomizations use.

The built-in renderer knows `resources` (files, and directories holding a kustomization),
`namespace` (set on every namespaced object) and `patches` whose documents are
`$patch: delete` (removing the object they name). Anything else — another key, a remote
resource, a patch that changes an object, a patch `target` — is `Unsupported`, naming kubectl:
it never guesses. Like kustomize it refuses a file outside the kustomization's directory, a base
directory containing the overlay ("cycle detected") and two objects with one id. The tests
compare its output with kubectl's when kubectl is installed.

KUBECTL names the kubectl to use; KUBECTL=none forces the built-in renderer.
"""
import os
import shutil
import subprocess

import yaml

from . import context as ctx
from .documents import StrictLoader
from .util import as_dict, as_list

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {"apiVersion", "kind", "namespace", "resources", "patches"}
# Kinds the namespace transformer leaves alone (cluster-scoped).
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
    "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode", "Node",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "APIService", "VolumeAttachment", "PodSecurityPolicy",
    "ClusterIssuer", "ClusterWorkflowTemplate",
}


class RenderError(Exception):
    """The kustomization does not build (what kustomize would refuse too)."""


class Unsupported(RenderError):
    """The kustomization uses what only kubectl renders."""


def kustomization_file(directory):
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    return None


def load_kustomization(directory):
    path = kustomization_file(directory)
    if path is None:
        raise RenderError(f"{os.path.relpath(directory, ctx.ROOT or os.getcwd())}: no kustomization.yaml")
    shown = os.path.relpath(path, ctx.ROOT or os.getcwd())
    try:
        with open(path, encoding="utf-8") as f:
            k = yaml.load(f, Loader=StrictLoader)
    except (OSError, yaml.YAMLError) as e:
        raise RenderError(f"{shown}: cannot read: {' '.join(str(e).split())}")
    if not isinstance(k, dict):
        raise RenderError(f"{shown}: not a mapping")
    return k


def referenced_files(directory):
    """The files of `directory` its kustomization names (resources, patches' paths)."""
    k = load_kustomization(directory)
    out = set()
    for r in as_list(k.get("resources")):
        if isinstance(r, str):
            out.add(os.path.normpath(os.path.join(directory, r)))
    for p in as_list(k.get("patches")):
        if isinstance(p, dict) and isinstance(p.get("path"), str):
            out.add(os.path.normpath(os.path.join(directory, p["path"])))
    return out


def kubectl_path():
    """The kubectl to render with, or None (KUBECTL=none, or none on PATH)."""
    given = os.environ.get("KUBECTL")
    if given == "none":
        return None
    return shutil.which(given or "kubectl")


def render(directory):
    """(documents, how): kubectl kustomize's output when kubectl is there, else the built-in one's."""
    kubectl = kubectl_path()
    if kubectl is None:
        return build(directory), "built-in renderer (kubectl not found)"
    try:
        r = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise RenderError("kubectl kustomize timed out")
    if r.returncode != 0:
        raise RenderError("kubectl kustomize: " + " ".join((r.stderr or r.stdout).split())[:400])
    try:
        docs = [d for d in yaml.load_all(r.stdout, Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        raise RenderError("kubectl kustomize wrote no valid YAML: " + " ".join(str(e).split())[:300])
    return docs, "kubectl kustomize"


def resource_id(obj):
    md = as_dict(obj.get("metadata"))
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return (group, obj.get("kind"), md.get("namespace"), md.get("name"))


def _inside(path, directory):
    return os.path.commonpath([path, directory]) == directory


def build(directory, _visited=()):
    """The built-in renderer: the documents `directory`'s kustomization makes."""
    directory = os.path.realpath(directory)
    for v in _visited:
        if _inside(v, directory):
            raise RenderError(f"cycle detected: candidate root '{directory}' contains visited root '{v}'")
    visited = _visited + (directory,)
    k = load_kustomization(directory)
    where = os.path.relpath(kustomization_file(directory), ctx.ROOT or os.getcwd())
    extra = sorted(set(k) - SUPPORTED_KEYS)
    if extra:
        raise Unsupported(f"{where}: {', '.join(extra)}: not rendered by the built-in renderer (install kubectl)")
    docs = []
    for r in as_list(k.get("resources")):
        if not isinstance(r, str) or "://" in r or r.startswith(("github.com/", "git@")):
            raise Unsupported(f"{where}: resource {r!r}: only local files and directories (install kubectl)")
        p = os.path.realpath(os.path.join(directory, r))
        if os.path.isdir(p):
            docs.extend(build(p, visited))
        elif os.path.isfile(p):
            if not _inside(p, directory):
                raise RenderError(f"{where}: security; file '{p}' is not in or below '{directory}'")
            try:
                with open(p, encoding="utf-8") as f:
                    docs.extend(d for d in yaml.load_all(f, Loader=StrictLoader) if d is not None)
            except (OSError, yaml.YAMLError) as e:
                raise RenderError(f"{where}: resource {r}: {' '.join(str(e).split())}")
        else:
            raise RenderError(f"{where}: resource {r}: no such file or directory")
    seen = set()
    for d in docs:
        if not isinstance(d, dict):
            raise RenderError(f"{where}: a resource document is not a mapping")
        rid = resource_id(d)
        if rid in seen:
            raise RenderError(f"{where}: may not add resource with an already registered id: {rid[1]} {rid[3]} (namespace {rid[2]})")
        seen.add(rid)
    for i, entry in enumerate(as_list(k.get("patches"))):
        docs = _apply_patch(docs, as_dict(entry), directory, f"{where}: patches[{i}]")
    ns = k.get("namespace")
    if ns:
        for d in docs:
            if d.get("kind") not in CLUSTER_SCOPED:
                d.setdefault("metadata", {})["namespace"] = ns
    return docs


def _apply_patch(docs, entry, directory, where):
    if entry.get("target") is not None or entry.get("options") is not None:
        raise Unsupported(f"{where}: target/options: not rendered by the built-in renderer (install kubectl)")
    if isinstance(entry.get("patch"), str):
        text = entry["patch"]
    elif isinstance(entry.get("path"), str):
        p = os.path.realpath(os.path.join(directory, entry["path"]))
        if not _inside(p, directory):
            raise RenderError(f"{where}: security; file '{p}' is not in or below '{directory}'")
        try:
            with open(p, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise RenderError(f"{where}: {entry['path']}: {e.strerror}")
    else:
        raise RenderError(f"{where}: needs patch or path")
    try:
        patches = [d for d in yaml.load_all(text, Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        raise RenderError(f"{where}: not valid YAML: {' '.join(str(e).split())}")
    for patch in patches:
        if not isinstance(patch, dict) or patch.get("$patch") != "delete" or set(patch) - {"$patch", "apiVersion", "kind", "metadata"}:
            raise Unsupported(f"{where}: only `$patch: delete` patches are rendered by the built-in renderer (install kubectl)")
        rid = resource_id(patch)
        kept = [d for d in docs if resource_id(d) != rid]
        if len(kept) == len(docs):
            raise RenderError(f"{where}: no resource matches the patch ({rid[1]} {rid[3]}, namespace {rid[2]})")
        docs = kept
    return docs

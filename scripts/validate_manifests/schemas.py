"""(a) and (b): built-in kinds through kubernetes-validate --strict, custom resources and Argo
submit bodies through the JSON schemas in deploy/schemas/ with the API server's strict field rules."""
import json
import os
import re
import sys

import jsonschema
import kubernetes_validate.utils as kvu
from referencing import Registry, Resource

from . import context as ctx
from .report import fail
from .util import jpath


def _version_dir():
    want = os.environ.get("K8S_VERSION") or kvu.latest_version()
    want = want.lstrip("v")
    mm = lambda v: tuple(int(x) for x in kvu.major_minor(v).split("."))
    versions = [v for v in kvu.all_versions() if mm(v) <= mm(want)]
    if not versions:
        print(f"validate-manifests: kubernetes-validate has no schemas for Kubernetes {want}", file=sys.stderr); sys.exit(2)
    return want, versions[-1]

def load_kubernetes_schemas():
    """Picks the Kubernetes version and loads its definitions into `ctx`."""
    ctx.K8S_WANT, ctx.K8S_VERSION = _version_dir()
    schema_base = os.path.join(os.path.dirname(kvu.__file__), "kubernetes-json-schema")
    ctx.STRICT_DIR = os.path.join(schema_base, f"v{ctx.K8S_VERSION}-local-strict")
    with open(os.path.join(ctx.STRICT_DIR, "_definitions.json")) as f:
        ctx.K8S_DEFS = json.load(f)

def strip_required(node):
    if isinstance(node, dict):
        return {k: strip_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [strip_required(v) for v in node]
    return node

def structural(node, top=True):
    """A CRD openAPIV3Schema as JSON Schema with the API server's strict field validation:
    an object with properties rejects other fields unless x-kubernetes-preserve-unknown-fields;
    x-driftwatch-inline merges the (strict) properties of Kubernetes types inlined in Go."""
    if isinstance(node, list):
        return [structural(v, False) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: structural(v, False) for k, v in node.items()}
    for name in node.pop("x-driftwatch-inline", []):
        props = node.setdefault("properties", {})
        for k, v in ctx.K8S_DEFS["$defs"][name]["properties"].items():
            props.setdefault(k, json.loads(json.dumps(v).replace('"#/$defs/', '"' + ctx.K8S)))
    if node.get("nullable") is True:
        t = node.get("type")
        if isinstance(t, str):
            node["type"] = [t, "null"]
    if "properties" in node and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        node["additionalProperties"] = False
    return node

CR_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com_servicemonitors.v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_prometheusrules.v1.json",
    ("serving.kserve.io/v1beta1", "InferenceService"): "serving.kserve.io_inferenceservices.v1beta1.json",
    ("argoproj.io/v1alpha1", "Workflow"): "argoproj.io_workflows.v1alpha1.json",
    ("argoproj.io/v1alpha1", "WorkflowTemplate"): "argoproj.io_workflows.v1alpha1.json",
}
_validators = {}

def _registry(patch):
    defs = strip_required(ctx.K8S_DEFS) if patch else ctx.K8S_DEFS
    return Resource.from_contents(defs) @ Registry()

def cr_validator(filename, patch, pointer=None):
    key = (filename, patch, pointer)
    if key not in _validators:
        path = os.path.join(ctx.deploy_dir, "schemas", filename)
        with open(path) as f:
            schema = json.load(f)
        schema.pop("$comment", None)
        if pointer:  # a definition of the file as the root (Argo submit body)
            schema = {"$defs": schema.get("$defs", {}), **schema["$defs"][pointer]}
        schema = structural(schema)
        # metadata: the Kubernetes ObjectMeta (strict), whatever the CRD says (`type: object`).
        if "metadata" in schema.get("properties", {}):
            schema["properties"]["metadata"] = {"$ref": ctx.K8S + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        if patch:
            schema = strip_required(schema)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = "https://driftwatch.invalid/schemas/" + filename
        _validators[key] = jsonschema.Draft202012Validator(schema, registry=_registry(patch))
    return _validators[key]

def builtin_patch_validator(api_version, kind):
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = os.path.join(ctx.STRICT_DIR, f"{kind.lower()}-{group_version}.json")
    if not os.path.exists(path):
        return None
    key = ("builtin", path)
    if key not in _validators:
        with open(path) as f:
            schema = strip_required(json.load(f))
        _validators[key] = jsonschema.Draft202012Validator(schema, registry=_registry(True))
    return _validators[key]

def schema_errors(validator, obj, limit=6):
    out = []
    for e in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        if e.context:
            best = jsonschema.exceptions.best_match(e.context)
            if best is not None:
                e = best
        msg = " ".join(e.message.split())
        if len(msg) > 220:
            msg = msg[:217] + "..."
        out.append(f"{jpath(e.absolute_path)}: {msg}")
        if len(out) >= limit:
            break
    return out

def validate_schema(obj, display, label, patch):
    """(a) and (b). False when the document has no schema."""
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if (api, kind) in CR_SCHEMAS:
        for m in schema_errors(cr_validator(CR_SCHEMAS[(api, kind)], patch), obj):
            fail(display, label, m)
        return True
    if patch:
        v = builtin_patch_validator(api, kind)
        if v is None:
            fail(display, label, f"no schema for {kind} {api} (Kubernetes {ctx.K8S_VERSION})")
            return False
        for m in schema_errors(v, obj):
            fail(display, label, m)
        return True
    try:
        kvu.validate(obj, ctx.K8S_WANT, strict=True)
    except kvu.SchemaNotFoundError:
        fail(display, label, f"no schema for {kind} {api}: not a Kubernetes {ctx.K8S_VERSION} kind, nor ServiceMonitor, "
                             "PrometheusRule, InferenceService or Argo Workflow")
        return False
    except jsonschema.ValidationError as e:
        fail(display, label, f"{jpath(e.path)}: {' '.join(e.message.split())[:220]} (kubernetes-validate --strict, {ctx.K8S_VERSION})")
    return True

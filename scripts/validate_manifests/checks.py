"""(c), (d), (e): what the schemas cannot say — pods (restartPolicy, GPUs, hardening),
InferenceServices, ServiceMonitors against Services, PrometheusRule against rules/, RBAC, the
tokens Secret, logger targets and the kustomization's file list."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import urlparse

import yaml

from . import context as ctx
from .context import GPU
from .documents import StrictLoader
from .driftwatch_config import config_check
from .report import fail, file_labels, file_order
from .schemas import cr_validator, schema_errors
from .util import as_dict, as_list, dig, jpath, label_of, FRAMEWORKS

# ---------------------------------------------------------------- (e) pods: restartPolicy, images, GPUs

POD_TEMPLATE_KINDS = {"Deployment": "workload", "StatefulSet": "workload", "ReplicaSet": "workload",
                      "DaemonSet": "daemonset", "Job": "job"}

def pod_views(obj):
    """(where, pod-level dict, [(where, container)], context) for every pod the object makes."""
    kind, spec = obj.get("kind"), as_dict(obj.get("spec"))
    views = []
    def k8s_pod(where, pod, ctx):
        pod = as_dict(pod)
        cs = [(f"{where}.containers[{i}]", c) for i, c in enumerate(as_list(pod.get("containers")))]
        cs += [(f"{where}.initContainers[{i}]", c) for i, c in enumerate(as_list(pod.get("initContainers")))]
        views.append((where, pod, cs, ctx))
    if kind == "Pod":
        k8s_pod("spec", spec, "pod")
    elif kind in POD_TEMPLATE_KINDS:
        k8s_pod("spec.template.spec", dig(spec, "template", "spec"), POD_TEMPLATE_KINDS[kind])
    elif kind == "CronJob":
        k8s_pod("spec.jobTemplate.spec.template.spec", dig(spec, "jobTemplate", "spec", "template", "spec"), "job")
    elif kind == "InferenceService":
        for comp in ("predictor", "transformer", "explainer"):
            c = spec.get(comp)
            if not isinstance(c, dict):
                continue
            where = f"spec.{comp}"
            cs = [(f"{where}.containers[{i}]", x) for i, x in enumerate(as_list(c.get("containers")))]
            cs += [(f"{where}.{fw}", c[fw]) for fw in FRAMEWORKS + ["art"] if isinstance(c.get(fw), dict)]
            views.append((where, c, cs, "isvc"))
            if isinstance(c.get("workerSpec"), dict):
                w = c["workerSpec"]
                views.append((f"{where}.workerSpec", w,
                              [(f"{where}.workerSpec.containers[{i}]", x) for i, x in enumerate(as_list(w.get("containers")))], "isvc"))
    elif kind in ("Workflow", "WorkflowTemplate"):
        for i, t in enumerate(as_list(spec.get("templates"))):
            if not isinstance(t, dict):
                continue
            where = f"spec.templates[{i}]"
            cs = []
            for key in ("container", "script"):
                if isinstance(t.get(key), dict):
                    cs.append((f"{where}.{key}", t[key]))
            for key in ("initContainers", "sidecars"):
                cs += [(f"{where}.{key}[{j}]", c) for j, c in enumerate(as_list(t.get(key)))]
            cs += [(f"{where}.containerSet.containers[{j}]", c)
                   for j, c in enumerate(as_list(dig(t, "containerSet", "containers")))]
            if not cs:
                continue
            pod = {
                # A template's nodeSelector/affinity replace the workflow's; tolerations of either count.
                "nodeSelector": t.get("nodeSelector") if t.get("nodeSelector") is not None else spec.get("nodeSelector"),
                "affinity": t.get("affinity") if t.get("affinity") is not None else spec.get("affinity"),
                "tolerations": as_list(spec.get("tolerations")) + as_list(t.get("tolerations")),
                "podSpecPatch": t.get("podSpecPatch") or spec.get("podSpecPatch"),
            }
            views.append((where, pod, cs, "argo"))
    return views

def gpu_count(value):
    """int for a whole number of GPUs, None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        return int(value)
    return None

def tolerates_gpu(tolerations):
    for t in as_list(tolerations):
        if not isinstance(t, dict):
            continue
        key, op, effect = t.get("key"), t.get("operator") or "Equal", t.get("effect") or ""
        if effect not in ("", "NoSchedule"):
            continue
        if key in (None, "") and op == "Exists":
            return True          # tolerates every taint
        if key == GPU and op in ("Exists", "Equal"):
            return True
    return False

def gpu_node_selector(pod):
    """A nodeSelector or required node affinity term that picks GPU nodes."""
    looks_gpu = lambda s: bool(re.search(r"nvidia|gpu|accelerator", str(s), re.I))
    ns = as_dict(pod.get("nodeSelector"))
    if any(looks_gpu(k) or looks_gpu(v) for k, v in ns.items()):
        return True
    terms = as_list(dig(pod, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"))
    for term in terms:
        for e in as_list(dig(term, "matchExpressions")):
            if isinstance(e, dict) and (looks_gpu(e.get("key")) or any(looks_gpu(v) for v in as_list(e.get("values")))):
                return True
    return False

def check_pods(obj, display, label, patch):
    kind = obj.get("kind")
    for where, pod, containers, ctx in pod_views(obj):
        rp = pod.get("restartPolicy")
        if ctx in ("pod", "workload", "daemonset", "job"):
            if rp is not None and rp not in ("Always", "OnFailure", "Never"):
                fail(display, label, f"{where}.restartPolicy: {rp!r} is not Always, OnFailure or Never")
            elif ctx == "job" and rp not in ("OnFailure", "Never") and not patch:
                fail(display, label, f"{where}.restartPolicy: a {kind}'s pods need OnFailure or Never, got {rp or 'nothing (Always)'}")
            elif ctx in ("workload", "daemonset") and rp not in (None, "Always"):
                fail(display, label, f"{where}.restartPolicy: a {kind}'s pods need Always, got {rp}")
            if not patch:
                for cw, c in containers:
                    if isinstance(c, dict) and not c.get("image"):
                        fail(display, label, f"{cw}.image is missing")
        gpus = 0
        for cw, c in containers:
            res = as_dict(as_dict(c).get("resources"))
            lim, req = as_dict(res.get("limits")).get(GPU), as_dict(res.get("requests")).get(GPU)
            if lim is None and req is None:
                continue
            if lim is None:
                fail(display, label, f"{cw}.resources: {GPU} is requested but has no limit (extended resources need limits)")
                continue
            n = gpu_count(lim)
            if n is None:
                fail(display, label, f"{cw}.resources.limits.{GPU}: {lim!r} is not a whole number of GPUs")
                continue
            if req is not None and gpu_count(req) != n:
                fail(display, label, f"{cw}.resources.requests.{GPU}: {req!r} must equal the limit {lim!r}")
            gpus += n
        if patch or ctx == "daemonset" or pod.get("podSpecPatch"):
            continue
        tol, sel = tolerates_gpu(pod.get("tolerations")), gpu_node_selector(pod)
        if gpus > 0 and not tol:
            fail(display, label, f"{where}: asks for {gpus} {GPU} but has no toleration for the GPU nodes' "
                                 f"{GPU}:NoSchedule taint (key: {GPU}, operator: Exists, effect: NoSchedule)")
        if gpus > 0 and not sel:
            fail(display, label, f"{where}: asks for {gpus} {GPU} but has no nodeSelector (or required node affinity) "
                                 "for the GPU node pool")
        if gpus == 0 and sel and not tol:
            fail(display, label, f"{where}: its nodeSelector picks GPU nodes but it has no {GPU} toleration: "
                                 "on a tainted GPU pool it stays Pending (and it asks for no GPU)")

# ---------------------------------------------------------------- (e) per kind

def check_statefulset(obj, display, label, patch):
    r = dig(obj, "spec", "replicas")
    if r is not None and r != 1:
        fail(display, label, f"spec.replicas: {r}: driftwatch's SQLite store has a single writer, a StatefulSet runs exactly 1 replica")

def check_driftwatch_pod(obj, display, label):
    """The hardening of driftwatch's own workload (label app.kubernetes.io/name: driftwatch)."""
    if dig(obj, "metadata", "labels", "app.kubernetes.io/name") != "driftwatch":
        return
    pod = as_dict(dig(obj, "spec", "template", "spec"))
    psc = as_dict(pod.get("securityContext"))
    if obj.get("kind") == "StatefulSet" and not as_list(dig(obj, "spec", "volumeClaimTemplates")):
        fail(display, label, "spec.volumeClaimTemplates: driftwatch's store needs a persistent volume")
    for i, c in enumerate(as_list(pod.get("containers"))):
        w, sc = f"spec.template.spec.containers[{i}]", as_dict(as_dict(c).get("securityContext"))
        if not (sc.get("runAsNonRoot") is True or (psc.get("runAsNonRoot") is True and sc.get("runAsNonRoot") is not False)):
            fail(display, label, f"{w}: runAsNonRoot must be true")
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(display, label, f"{w}.securityContext.readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            fail(display, label, f"{w}.securityContext.allowPrivilegeEscalation must be false")
        if "ALL" not in as_list(dig(sc, "capabilities", "drop")) or as_list(dig(sc, "capabilities", "add")):
            fail(display, label, f"{w}.securityContext.capabilities must drop ALL and add none")
        seccomp = dig(sc, "seccompProfile", "type") or dig(psc, "seccompProfile", "type")
        if seccomp != "RuntimeDefault":
            fail(display, label, f"{w}: seccompProfile.type must be RuntimeDefault (pod or container)")
        res = as_dict(as_dict(c).get("resources"))
        for part, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
            for k in keys:
                if as_dict(res.get(part)).get(k) in (None, ""):
                    fail(display, label, f"{w}.resources.{part}.{k} must be set")

def check_isvc(obj, display, label, patch):
    spec = as_dict(obj.get("spec"))
    for comp in ("predictor", "transformer", "explainer"):
        c = spec.get(comp)
        if not isinstance(c, dict):
            continue
        w = f"spec.{comp}"
        ctp = c.get("canaryTrafficPercent")
        if ctp is not None and (isinstance(ctp, bool) or not isinstance(ctp, int) or not 0 <= ctp <= 100):
            fail(display, label, f"{w}.canaryTrafficPercent: {ctp!r} is not a whole percentage 0–100")
        mn, mx = c.get("minReplicas"), c.get("maxReplicas")
        if isinstance(mn, int) and mn < 0:
            fail(display, label, f"{w}.minReplicas: {mn} < 0")
        if isinstance(mx, int) and mx < 0:
            fail(display, label, f"{w}.maxReplicas: {mx} < 0")
        if isinstance(mn, int) and isinstance(mx, int) and mx != 0 and mn > mx:
            fail(display, label, f"{w}: minReplicas {mn} > maxReplicas {mx}")
        cc = c.get("containerConcurrency")
        if isinstance(cc, int) and cc < 0:
            fail(display, label, f"{w}.containerConcurrency: {cc} < 0")
        logger = c.get("logger")
        if isinstance(logger, dict):
            url = logger.get("url")
            u = urlparse(url) if isinstance(url, str) else None
            if not u or u.scheme not in ("http", "https") or not u.hostname:
                fail(display, label, f"{w}.logger.url: {url!r} is not an http(s) URL (driftwatch's .../v1/kserve)")
            elif u.path != "/v1/kserve":
                fail(display, label, f"{w}.logger.url: path {u.path or '/'!r}: driftwatch takes KServe's CloudEvents on /v1/kserve")
    pred = spec.get("predictor")
    if isinstance(pred, dict) and not patch:
        n = sum(1 for fw in FRAMEWORKS if pred.get(fw) is not None)
        containers = [c for c in as_list(pred.get("containers")) if isinstance(c, dict)]
        if containers:
            if any(c.get("name") == "kserve-container" for c in containers):
                n += 1
            elif n == 0:
                n = 1
        if n != 1:
            fail(display, label, f"spec.predictor: exactly one of {', '.join(FRAMEWORKS)} or a custom container must be set, found {n}")

SUBMIT_KEYS = ("namespace", "resourceKind", "resourceName")

def check_argo_submit(obj, display, label, patch):
    for m in schema_errors(cr_validator("argoproj.io_workflows.v1alpha1.json", patch, "WorkflowSubmitRequest"), obj):
        fail(display, label, m)
    labels = dig(obj, "submitOptions", "labels")
    if isinstance(labels, str) and labels and not re.fullmatch(r"[^=,\s]+=[^=,]*(,[^=,\s]+=[^=,]*)*", labels):
        fail(display, label, f"submitOptions.labels: {labels!r} is not k=v[,k=v…]")

def check_servicemonitor(obj, display, label, patch, docs):
    spec = as_dict(obj.get("spec"))
    eps = as_list(spec.get("endpoints"))
    if not eps and not patch:
        fail(display, label, "spec.endpoints: no endpoint, nothing would be scraped")
    ns = dig(obj, "metadata", "namespace")
    services = [d for d in docs if d.get("kind") == "Service" and d.get("apiVersion") == "v1"]
    nsel = as_dict(spec.get("namespaceSelector"))
    def in_namespace(svc):
        sns = dig(svc, "metadata", "namespace")
        if nsel.get("any"):
            return True
        if nsel.get("matchNames"):
            return sns in nsel["matchNames"] or sns is None
        return sns == ns or sns is None or ns is None
    matched = [s for s in services if in_namespace(s) and selector_matches(spec.get("selector"), dig(s, "metadata", "labels"))]
    if services and not matched and not patch:
        fail(display, label, "spec.selector: matches none of the Services being validated "
                             f"({', '.join(label_of(s) for s in services)})")
    secrets = {(dig(s, "metadata", "name"), dig(s, "metadata", "namespace")): s
               for s in docs if s.get("kind") == "Secret"}
    for i, ep in enumerate(eps):
        ep, w = as_dict(ep), f"spec.endpoints[{i}]"
        if not ep.get("port") and ep.get("targetPort") is None:
            fail(display, label, f"{w}: needs port (a Service port name) or targetPort")
        if ep.get("path") is not None and not str(ep["path"]).startswith("/"):
            fail(display, label, f"{w}.path: {ep['path']!r} must start with /")
        if sum(1 for k in ("authorization", "basicAuth", "oauth2") if ep.get(k)) > 1:
            fail(display, label, f"{w}: authorization, basicAuth and oauth2 exclude each other")
        if ep.get("port"):
            for s in matched:
                names = [p.get("name") for p in as_list(dig(s, "spec", "ports")) if isinstance(p, dict)]
                if ep["port"] not in names:
                    fail(display, label, f"{w}.port: {label_of(s)} has no port named {ep['port']!r} (has {names})")
        cred = dig(ep, "authorization", "credentials")
        if isinstance(cred, dict):
            sec = secrets.get((cred.get("name"), ns)) or secrets.get((cred.get("name"), None))
            if sec is not None and cred.get("key") not in {**as_dict(sec.get("data")), **as_dict(sec.get("stringData"))}:
                fail(display, label, f"{w}.authorization.credentials: Secret {cred.get('name')} has no key {cred.get('key')!r}")

def selector_matches(selector, labels):
    selector, labels = as_dict(selector), as_dict(labels)
    for k, v in as_dict(selector.get("matchLabels")).items():
        if labels.get(k) != v:
            return False
    for e in as_list(selector.get("matchExpressions")):
        e = as_dict(e)
        k, op, vals = e.get("key"), e.get("operator"), as_list(e.get("values"))
        if op == "In" and labels.get(k) not in vals: return False
        if op == "NotIn" and labels.get(k) in vals: return False
        if op == "Exists" and k not in labels: return False
        if op == "DoesNotExist" and k in labels: return False
    return True

def rules_groups():
    with open(os.path.join(ctx.ROOT, "rules", "driftwatch.rules.yml")) as f:
        return as_dict(yaml.safe_load(f)).get("groups")

def check_prometheusrule(obj, display, label, patch, path):
    spec = as_dict(obj.get("spec"))
    if not patch:
        promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if not promtool or not shutil.which(promtool):
            print("validate-manifests: promtool not found (apt-get install prometheus, or set PROMTOOL)", file=sys.stderr)
            sys.exit(2)
        with tempfile.NamedTemporaryFile("w", suffix=".rules.yml", delete=False) as tmp:
            yaml.safe_dump({"groups": spec.get("groups") or []}, tmp, sort_keys=False)
        try:
            r = subprocess.run([promtool, "check", "rules", "--lint-fatal", tmp.name], capture_output=True, text=True, timeout=120)
        finally:
            os.unlink(tmp.name)
        if r.returncode != 0:
            lines = [l.strip() for l in (r.stdout + r.stderr).splitlines()
                     if l.strip() and not l.startswith("Checking ") and "FAILED:" not in l]
            for l in lines[:6] or ["promtool check rules failed"]:
                fail(display, label, "promtool: " + l.replace(tmp.name, "spec"))
    if path and os.path.abspath(path) == os.path.join(ctx.deploy_dir, "prometheusrule.yaml"):
        try:
            src = rules_groups()
        except (OSError, yaml.YAMLError) as e:
            fail(display, label, f"cannot read rules/driftwatch.rules.yml: {e}")
            return
        got = spec.get("groups")
        if got != src:
            where = ""
            for gi, (a, b) in enumerate(zip(as_list(got), as_list(src))):
                if a != b:
                    where = f" (first difference in group {as_dict(b).get('name') or gi!r})"
                    break
            else:
                where = f" ({len(as_list(got))} groups here, {len(as_list(src))} in the rules file)"
            fail(display, label, f"spec.groups differ from rules/driftwatch.rules.yml{where}: run scripts/gen-prometheusrule.sh")

def check_rbac(obj, display, label):
    kind = obj.get("kind")
    if kind in ("ClusterRole", "ClusterRoleBinding"):
        fail(display, label, f"{kind}: driftwatch needs nothing cluster-wide (a Role and RoleBinding in its namespace)")
    if kind in ("Role", "ClusterRole"):
        for i, r in enumerate(as_list(obj.get("rules"))):
            for field in ("apiGroups", "resources", "verbs"):
                if "*" in as_list(as_dict(r).get(field)):
                    fail(display, label, f"rules[{i}].{field}: '*' is not least privilege")

TOKEN_SCOPES = {"ingest", "read", "admin"}

def secret_values(obj):
    import base64, binascii
    out = {}
    for k, v in as_dict(obj.get("data")).items():
        try:
            out[k] = base64.b64decode(str(v), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            out[k] = None
    for k, v in as_dict(obj.get("stringData")).items():
        out[k] = str(v)
    return out

def check_tokens_secret(obj, display, label):
    vals = secret_values(obj)
    if "tokens" not in vals:
        return
    if vals["tokens"] is None:
        fail(display, label, "data.tokens is not base64 of UTF-8 text")
        return
    table = {}
    for n, raw in enumerate(vals["tokens"].split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            fail(display, label, f"tokens line {n}: expected `TOKEN scope[,scope…]`")
            continue
        if len(parts[0]) < 16:
            fail(display, label, f"tokens line {n}: token shorter than 16 characters")
        scopes = set(parts[1].split(","))
        if not scopes <= TOKEN_SCOPES:
            fail(display, label, f"tokens line {n}: unknown scope(s) {sorted(scopes - TOKEN_SCOPES)} (ingest, read, admin)")
        table[parts[0]] = scopes
    if not table:
        fail(display, label, "tokens: no token (driftwatch refuses 0.0.0.0 without tokens)")
    mt = vals.get("metrics-token")
    if mt is not None and not (table.get(mt.strip(), set()) & {"read", "admin"}):
        fail(display, label, "metrics-token is not a token of `tokens` with scope read")

def check_logger_targets(obj, display, label, docs):
    """An InferenceService logger URL naming a Service being validated must hit one of its ports."""
    services = {(dig(s, "metadata", "name"), dig(s, "metadata", "namespace")): s for s in docs if s.get("kind") == "Service"}
    if not services:
        return
    for comp in ("predictor", "transformer", "explainer"):
        url = dig(obj, "spec", comp, "logger", "url")
        if not isinstance(url, str):
            continue
        u = urlparse(url)
        host = u.hostname or ""
        m = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?", host)
        if not m:
            continue
        svc = services.get((m.group(1), m.group(2)))
        if svc is None:
            continue
        port = u.port or (443 if u.scheme == "https" else 80)
        ports = [p.get("port") for p in as_list(dig(svc, "spec", "ports")) if isinstance(p, dict)]
        if port not in ports:
            fail(display, label, f"spec.{comp}.logger.url: Service {m.group(1)} has no port {port} (has {ports})")

def check_kustomization():
    kpath = os.path.join(ctx.deploy_dir, "kustomization.yaml")
    display = "deploy/kustomization.yaml"
    file_order.append(display)
    try:
        k = as_dict(yaml.load(open(kpath), Loader=StrictLoader))
    except (OSError, yaml.YAMLError) as e:
        fail(display, None, f"cannot read: {e}")
        return
    resources = [r for r in as_list(k.get("resources")) if isinstance(r, str)]
    for r in resources:
        if not os.path.exists(os.path.join(ctx.deploy_dir, r)):
            fail(display, None, f"resources: {r} does not exist")
    for p in sorted(glob.glob(os.path.join(ctx.deploy_dir, "*.yaml"))):
        b = os.path.basename(p)
        if b != "kustomization.yaml" and b not in resources and "example" not in b:
            fail(display, None, f"resources: {b} is not listed (list it, or name it *example*)")
    note = f"{len(resources)} resources"
    kubectl = shutil.which("kubectl")
    if kubectl:
        try:
            r = subprocess.run([kubectl, "kustomize", ctx.deploy_dir], capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                fail(display, None, "kubectl kustomize: " + " ".join((r.stderr or r.stdout).split())[:300])
            else:
                note += "; kubectl kustomize builds"
        except subprocess.TimeoutExpired:
            fail(display, None, "kubectl kustomize timed out")
    else:
        note += "; kubectl not found, build not tried"
    file_labels[display] = [f"Kustomization: {note}"]


def check_config_map(obj, display, label, driftwatch):
    """data.driftwatch.json: what `driftwatch config check` says of it (every unknown key, type
    error and invalid setting), then the in-cluster rules (no open API, http(s) URLs).
    `driftwatch` is the binary's path (driftwatch_config.find_driftwatch)."""
    text = as_dict(obj.get("data")).get("driftwatch.json")
    if text is None:
        return
    try:
        cfg = json.loads(text)
    except ValueError as e:
        fail(display, label, f"data.driftwatch.json is not JSON: {e}")
        return
    if not isinstance(cfg, dict):
        fail(display, label, "data.driftwatch.json is not a JSON object")
        return
    _, errors = config_check(driftwatch, text)
    for e in errors:
        fail(display, label, f"data.driftwatch.json: {e}")
    if cfg.get("insecure") is True:
        fail(display, label, "data.driftwatch.json: insecure is true (an open API in the cluster)")
    for u in as_list(dig(cfg, "alertmanager", "urls")) + ([cfg["public_url"]] if isinstance(cfg.get("public_url"), str) else []):
        p = urlparse(str(u))
        if p.scheme not in ("http", "https") or not p.hostname:
            fail(display, label, f"data.driftwatch.json: {u!r} is not an http(s) URL")

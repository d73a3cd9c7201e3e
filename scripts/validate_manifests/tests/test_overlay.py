"""The HA overlay (deploy-ha/): the built-in kustomize renderer (against kubectl's output when
kubectl is installed), and the checks of the rendered documents — the PostgreSQL store's URL and
wiring, the PodDisruptionBudget (needs the venv: kubernetes-validate, jsonschema, yaml)."""
import contextlib
import copy
import io
import json
import os
import shutil
import tempfile
import unittest

from validate_manifests import cli, context as ctx, kustomize
from validate_manifests.checks import kustomization_files_problems, store_url_problems
from validate_manifests.util import as_list, dig

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HA = os.path.join(ROOT, "deploy-ha")
URL = ("postgres://driftwatch@postgres.example.svc:5432/driftwatch"
       "?password_file=/var/run/secrets/driftwatch-postgres/password&sslmode=require")


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main([ROOT, *args])
    return status, out.getvalue(), err.getvalue()


def write(directory, name, text):
    path = os.path.join(directory, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def by_id(docs):
    return {kustomize.resource_id(d): d for d in docs}


def find(docs, kind, name):
    return next(d for d in docs if d.get("kind") == kind and dig(d, "metadata", "name") == name)


def container(docs):
    return dig(find(docs, "Deployment", "driftwatch"), "spec", "template", "spec", "containers", 0)


def kubectl():
    return kustomize.kubectl_path()


class RendererTests(unittest.TestCase):
    def setUp(self):
        ctx.set_root(ROOT)

    def test_ha_overlay_replaces_the_statefulset(self):
        docs = kustomize.build(HA)
        ids = by_id(docs)
        kinds = [d["kind"] for d in docs]
        self.assertNotIn("StatefulSet", kinds)
        self.assertNotIn(("", "Service", "driftwatch", "driftwatch-headless"), ids)
        self.assertNotIn("PersistentVolumeClaim", kinds)
        deployment = find(docs, "Deployment", "driftwatch")
        self.assertEqual(deployment["spec"]["replicas"], 3)
        self.assertNotIn("volumeClaimTemplates", deployment["spec"])
        self.assertEqual(find(docs, "PodDisruptionBudget", "driftwatch")["spec"]["minAvailable"], 2)
        self.assertEqual(find(docs, "Secret", "driftwatch-postgres")["stringData"]["url"], URL)
        # The rest of the base is there, in the namespace.
        for kind in ("Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "NetworkPolicy",
                     "ServiceMonitor", "PrometheusRule"):
            self.assertIn(kind, kinds)
        for d in docs:
            if d["kind"] != "Namespace":
                self.assertEqual(d["metadata"]["namespace"], "driftwatch", d["kind"])

    def test_ha_pod_is_the_base_pod_but_for_the_store(self):
        """Labels, probes, hardening, resources and the config mount as in deploy/statefulset.yaml."""
        base = find(kustomize.build(os.path.join(ROOT, "deploy")), "StatefulSet", "driftwatch")
        ha = find(kustomize.build(HA), "Deployment", "driftwatch")
        self.assertEqual(ha["metadata"]["labels"], base["metadata"]["labels"])
        self.assertEqual(ha["spec"]["selector"], base["spec"]["selector"])
        self.assertEqual(ha["spec"]["template"]["metadata"], base["spec"]["template"]["metadata"])
        bp, hp = base["spec"]["template"]["spec"], ha["spec"]["template"]["spec"]
        for key in ("serviceAccountName", "automountServiceAccountToken", "enableServiceLinks",
                    "terminationGracePeriodSeconds", "securityContext"):
            self.assertEqual(hp[key], bp[key], key)
        bc, hc = bp["containers"][0], hp["containers"][0]
        for key in ("name", "image", "ports", "startupProbe", "livenessProbe", "readinessProbe", "resources",
                    "securityContext"):
            self.assertEqual(hc[key], bc[key], key)
        self.assertEqual(hc["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(hc["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual([a for a in bc["args"] if not a.startswith("--data-dir")], hc["args"])
        volumes = lambda pod: {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(volumes(hp)["config"], volumes(bp)["config"])
        self.assertNotIn("data", [m["name"] for m in hc["volumeMounts"]])
        env = {e["name"]: e for e in hc["env"]}
        self.assertEqual(env["DRIFTWATCH_STORE"]["valueFrom"]["secretKeyRef"], {"name": "driftwatch-postgres", "key": "url"})
        self.assertTrue(hp["topologySpreadConstraints"])
        self.assertTrue(all(c["whenUnsatisfiable"] == "ScheduleAnyway" for c in hp["topologySpreadConstraints"]))

    @unittest.skipUnless(kubectl(), "kubectl not installed")
    def test_builtin_renderer_matches_kubectl(self):
        for directory in (HA, os.path.join(ROOT, "deploy")):
            with self.subTest(directory=directory):
                got, how = kustomize.render(directory)
                self.assertEqual(how, "kubectl kustomize")
                self.assertEqual(by_id(kustomize.build(directory)), by_id(got))

    def test_renderer_refuses_what_it_does_not_render(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
            write(d, "kustomization.yaml", "resources: [cm.yaml]\nimages: [{name: x, newTag: '2'}]\n")
            with self.assertRaisesRegex(kustomize.Unsupported, "images"):
                kustomize.build(d)
            write(d, "kustomization.yaml", "resources: [cm.yaml]\npatches:\n- patch: |-\n    apiVersion: v1\n"
                                           "    kind: ConfigMap\n    metadata: {name: x}\n    data: {a: b}\n")
            with self.assertRaisesRegex(kustomize.Unsupported, "delete"):
                kustomize.build(d)
            write(d, "kustomization.yaml", "resources: [cm.yaml]\npatches:\n- patch: |-\n    $patch: delete\n"
                                           "    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: y}\n")
            with self.assertRaisesRegex(kustomize.RenderError, "no resource matches"):
                kustomize.build(d)
            write(d, "kustomization.yaml", "resources: [cm.yaml, cm.yaml]\n")
            with self.assertRaisesRegex(kustomize.RenderError, "already registered"):
                kustomize.build(d)

    def test_renderer_refuses_a_base_containing_its_overlay_and_files_outside(self):
        # Why deploy-ha/ is beside deploy/, not in it.
        with tempfile.TemporaryDirectory() as d:
            write(d, "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
            write(d, "base/kustomization.yaml", "resources: [cm.yaml]\n")
            write(d, "base/overlays/ha/kustomization.yaml", "resources: [../..]\n")
            with self.assertRaisesRegex(kustomize.RenderError, "cycle detected"):
                kustomize.build(os.path.join(d, "base", "overlays", "ha"))
            write(d, "base/overlays/ha/kustomization.yaml", "resources: [../../cm.yaml]\n")
            with self.assertRaisesRegex(kustomize.RenderError, "not in or below"):
                kustomize.build(os.path.join(d, "base", "overlays", "ha"))
            write(d, "ha/kustomization.yaml", "namespace: ns\nresources: [../base]\n")
            self.assertEqual(kustomize.build(os.path.join(d, "ha"))[0]["metadata"], {"name": "x", "namespace": "ns"})

    def test_overlay_file_list(self):
        self.assertEqual(kustomization_files_problems(HA), ([], 4, 2))
        with tempfile.TemporaryDirectory() as d:
            write(d, "kustomization.yaml", "resources: [deployment.yaml, missing.yaml]\n")
            write(d, "deployment.yaml", "{}\n")
            write(d, "pdb.yaml", "{}\n")
            write(d, "secret.example.yaml", "{}\n")
            self.assertEqual(kustomization_files_problems(d), (
                ["resources: missing.yaml does not exist", "resources: pdb.yaml is not listed (list it, or name it *example*)"], 2, 0))


class StoreURLTests(unittest.TestCase):
    def test_the_example_url_is_valid(self):
        self.assertEqual(store_url_problems(URL), [])
        self.assertEqual(store_url_problems("postgresql://u@h/db?password_env=PG&pool=16&sslmode=disable"), [])

    def test_what_driftwatch_refuses(self):
        cases = {
            "postgres://h:5432/db": "has no user",
            "postgres://u@h:5432/": "has no database name",
            "postgres://u@h:99999/db": "port is not in",
            "postgres://u@h:0/db": "port is not in",
            "postgres://u@h/db?sslmode=verify-full": "sslmode=verify-full is not one of",
            "postgres://u@h/db?pool=0": "pool=0",
            "postgres://u@h/db?passwordfile=/x": "parameter 'passwordfile' is unknown",
            "postgres://u:pw@h/db?password_file=/x": "gives the password twice",
            "mysql://u@h/db": "is not postgres://",
        }
        for url, want in cases.items():
            with self.subTest(url=url):
                self.assertTrue(any(want in p for p in store_url_problems(url)), store_url_problems(url))


class RenderedOverlayTests(unittest.TestCase):
    """The overlay's documents through the whole validator (--files-only). The ConfigMap (needs the
    driftwatch binary) and the PrometheusRule (promtool) are left out: the full run checks them."""

    def setUp(self):
        ctx.set_root(ROOT)
        self.docs = [d for d in kustomize.build(HA) if d["kind"] not in ("ConfigMap", "PrometheusRule")]

    def validate(self, docs):
        with tempfile.TemporaryDirectory() as d:
            path = write(d, "ha.json", json.dumps(docs))
            return run("--files-only", path)

    def test_rendered_overlay_is_valid(self):
        status, out, err = self.validate(self.docs)
        self.assertEqual(status, 0, out + err)
        self.assertIn("Deployment driftwatch, PodDisruptionBudget driftwatch", out)

    def test_a_deployment_needs_the_postgres_store(self):
        docs = copy.deepcopy(self.docs)
        c = container(docs)
        c["env"] = [e for e in c["env"] if e["name"] != "DRIFTWATCH_STORE"]
        status, out, _ = self.validate(docs)
        self.assertEqual(status, 1, out)
        self.assertIn("a Deployment's replicas share no volume: driftwatch needs the PostgreSQL store", out)
        c["args"].append("--store=/var/lib/driftwatch")
        status, out, _ = self.validate(docs)
        self.assertIn("is not a postgres:// URL", out)
        c["args"][-1] = "--store=" + URL.replace("require", "verify-full")
        self.assertIn("spec.template.spec.containers[0]: store URL sslmode=verify-full is not one of", self.validate(docs)[1])
        c["args"][-1] = "--store=" + URL
        self.assertEqual(self.validate(docs)[0], 0)

    def test_the_secret_and_the_password_file_must_be_wired(self):
        docs = copy.deepcopy(self.docs)
        secret = find(docs, "Secret", "driftwatch-postgres")
        secret["stringData"]["url"] = URL.replace("/var/run/secrets/driftwatch-postgres/", "/etc/pg/")
        status, out, _ = self.validate(docs)
        self.assertEqual(status, 1, out)
        self.assertIn("the store URL's password_file /etc/pg/password: is under none of the container's volumeMounts", out)
        secret["stringData"]["url"] = URL.replace("/password&", "/pw&")
        status, out, _ = self.validate(docs)
        self.assertIn("volume postgres (mounted at /var/run/secrets/driftwatch-postgres) has no file 'pw'", out)
        secret["stringData"]["url"] = URL
        secret["stringData"]["pass"] = secret["stringData"].pop("password")
        status, out, _ = self.validate(docs)
        self.assertIn("Secret driftwatch-postgres (volume postgres) has no key 'password'", out)
        secret["stringData"]["uri"] = secret["stringData"].pop("url")
        status, out, _ = self.validate(docs)
        self.assertIn("env DRIFTWATCH_STORE: Secret driftwatch-postgres has no key 'url'", out)

    def test_a_bad_url_in_the_secret_fails(self):
        docs = copy.deepcopy(self.docs)
        find(docs, "Secret", "driftwatch-postgres")["stringData"]["url"] = URL.replace("require", "verify-full")
        status, out, _ = self.validate(docs)
        self.assertEqual(status, 1, out)
        self.assertIn("url: store URL sslmode=verify-full is not one of disable, prefer, require", out)

    def test_the_pdb_must_leave_a_pod_evictable(self):
        docs = copy.deepcopy(self.docs)
        pdb = find(docs, "PodDisruptionBudget", "driftwatch")
        pdb["spec"]["minAvailable"] = 3
        status, out, _ = self.validate(docs)
        self.assertEqual(status, 1, out)
        self.assertIn("spec.minAvailable: 3 of 3 replica(s) (Deployment driftwatch): no pod may ever be evicted", out)
        pdb["spec"]["minAvailable"] = "100%"
        self.assertIn("spec.minAvailable: 100% of 3", self.validate(docs)[1])
        del pdb["spec"]["minAvailable"]
        pdb["spec"]["maxUnavailable"] = 0
        self.assertIn("spec.maxUnavailable: 0: no pod may ever be evicted", self.validate(docs)[1])
        pdb["spec"]["maxUnavailable"] = 1
        self.assertEqual(self.validate(docs)[0], 0)
        pdb["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "other"}}
        self.assertIn("spec.selector: selects the pods of none of the workloads", self.validate(docs)[1])


@unittest.skipUnless(os.environ.get("DRIFTWATCH_BIN") and shutil.which(os.environ.get("PROMTOOL") or "promtool"),
                     "DRIFTWATCH_BIN not set or promtool missing (scripts/test.sh has both)")
class FullRunTests(unittest.TestCase):
    def test_the_overlay_is_validated_with_deploy(self):
        status, out, err = run()
        self.assertEqual(status, 0, out + err)
        self.assertIn("ok  deploy-ha/kustomization.yaml (Kustomization: 4 resources, 2 patches; rendered by", out)
        self.assertRegex(out, r"ok  deploy-ha \(kustomize build\) \(.*Deployment driftwatch, PodDisruptionBudget driftwatch")


if __name__ == "__main__":
    unittest.main()

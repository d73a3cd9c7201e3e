"""cli: arguments, and whole runs on small files (needs the venv: kubernetes-validate, jsonschema, yaml)."""
import contextlib
import io
import json
import os
import tempfile
import unittest

from validate_manifests import cli
from validate_manifests.documents import load_documents
from validate_manifests import report
from validate_manifests.util import dig, jpath

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main([ROOT, *args])
    return status, out.getvalue(), err.getvalue()


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class ArgumentTests(unittest.TestCase):
    def test_options(self):
        self.assertEqual(cli.parse_args(["--files-only", "a.yaml", "--patch", "p.json", "-"]),
                         (True, [("a.yaml", "a.yaml", False), ("p.json", "p.json", True), ("-", "-", False)]))
        with self.assertRaises(cli.UsageError):
            cli.parse_args(["--patch"])
        with self.assertRaises(cli.UsageError):
            cli.parse_args(["--bogus"])

    def test_usage_errors_exit_2(self):
        self.assertEqual(run("--bogus")[0], 2)
        self.assertEqual(run("--files-only")[0], 2)

    def test_deploy_inputs_skip_the_kustomization(self):
        names = [display for _, display, _ in cli.deploy_inputs(ROOT)]
        self.assertIn("deploy/configmap.yaml", names)
        self.assertNotIn("deploy/kustomization.yaml", names)


class HelperTests(unittest.TestCase):
    def test_jpath_and_dig(self):
        self.assertEqual(jpath(["spec", "containers", 0, "image"]), "spec.containers[0].image")
        self.assertEqual(jpath([]), "(document)")
        self.assertEqual(dig({"a": [{"b": 1}]}, "a", 0, "b"), 1)
        self.assertIsNone(dig({"a": []}, "a", 0))

    def test_duplicate_keys_are_errors(self):
        report.reset()
        with tempfile.TemporaryDirectory() as d:
            path = write(d, "dup.yaml", "a: 1\na: 2\n")
            self.assertIsNone(load_documents(path, "dup.yaml"))
        self.assertIn("duplicate key 'a'", report.failures[0][2])


class KindTests(unittest.TestCase):
    """Each kind's checks run (and a bad value is a failure, not a crash: exit 1, never 2)."""

    def test_argo_submit_body(self):
        body = {"namespace": "ml", "resourceKind": "WorkflowTemplate", "resourceName": "fraud-retrain",
                "submitOptions": {"generateName": "dw-retrain-", "parameters": ["model=fraud"]}}
        with tempfile.TemporaryDirectory() as d:
            status, out, err = run("--files-only", write(d, "submit.json", json.dumps(body)))
            self.assertEqual(status, 0, out + err)
            self.assertIn("Argo submit WorkflowTemplate/fraud-retrain", out)
            body["submitOptions"]["bogus"] = 1
            status, out, err = run("--files-only", write(d, "submit.json", json.dumps(body)))
            self.assertEqual(status, 1, out + err)

    def test_job_restart_policy(self):
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "train"},
               "spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "t", "image": "trainer:1"}]}}}}
        with tempfile.TemporaryDirectory() as d:
            status, out, err = run("--files-only", write(d, "job.json", json.dumps(job)))
        self.assertEqual(status, 1, out + err)
        self.assertIn("restartPolicy", out)


def config_map(config):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "driftwatch-config", "namespace": "driftwatch"},
                       "data": {"driftwatch.json": json.dumps(config)}})


@unittest.skipUnless(os.environ.get("DRIFTWATCH_BIN"), "DRIFTWATCH_BIN not set (scripts/test.sh sets it after swift build)")
class ConfigMapTests(unittest.TestCase):
    def test_every_configuration_error_is_a_failure(self):
        with tempfile.TemporaryDirectory() as d:
            path = write(d, "cm.json", config_map({"prot": 1, "alertmanager": {"urls": ["http://am:9093"], "resend": 5}, "insecure": True}))
            status, out, _ = run("--files-only", path)
        self.assertEqual(status, 1, out)
        self.assertIn('data.driftwatch.json: prot: unknown key; did you mean "port"?', out)
        self.assertIn('data.driftwatch.json: alertmanager.resend: unknown key; did you mean "resend_seconds"?', out)
        self.assertIn("data.driftwatch.json: insecure is true (an open API in the cluster)", out)

    def test_a_valid_configuration_passes(self):
        with tempfile.TemporaryDirectory() as d:
            path = write(d, "cm.json", config_map({"port": 8080, "remediation": {"gate": {"min_agreement": 0.95}}}))
            status, out, _ = run("--files-only", path)
        self.assertEqual(status, 0, out)
        self.assertIn("ok  " + path + " (ConfigMap driftwatch-config)", out)


if __name__ == "__main__":
    unittest.main()

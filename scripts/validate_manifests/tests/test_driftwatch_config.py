"""driftwatch_config: finding the binary and reading `driftwatch config check`."""
import os
import stat
import subprocess
import tempfile
import unittest

from validate_manifests.driftwatch_config import DriftwatchNotFound, config_check, find_driftwatch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def fake_binary(directory, script):
    path = os.path.join(directory, "driftwatch")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


class FindDriftwatchTests(unittest.TestCase):
    def test_environment_wins(self):
        with tempfile.TemporaryDirectory() as d:
            binary = fake_binary(d, "exit 0\n")
            self.assertEqual(find_driftwatch(ROOT, {"DRIFTWATCH_BIN": binary}), binary)
            with self.assertRaises(DriftwatchNotFound):
                find_driftwatch(ROOT, {"DRIFTWATCH_BIN": os.path.join(d, "missing")})

    def test_bin_path_from_swift_build(self):
        with tempfile.TemporaryDirectory() as d:
            binary = fake_binary(d, "exit 0\n")
            calls = []

            def run(cmd, **kw):
                calls.append((cmd, kw.get("cwd")))
                return subprocess.CompletedProcess(cmd, 0, stdout="Building...\n" + d + "\n", stderr="")
            self.assertEqual(find_driftwatch(ROOT, {}, run=run), binary)
            self.assertEqual(calls, [(["swift", "build", "--show-bin-path"], ROOT)])

            def unbuilt(cmd, **kw):
                return subprocess.CompletedProcess(cmd, 0, stdout=os.path.join(d, "empty") + "\n", stderr="")
            with self.assertRaises(DriftwatchNotFound) as e:
                find_driftwatch(ROOT, {}, run=unbuilt)
            self.assertIn("not built", str(e.exception))


class ConfigCheckTests(unittest.TestCase):
    def test_errors_lose_the_temporary_file_name(self):
        with tempfile.TemporaryDirectory() as d:
            binary = fake_binary(d, 'echo "$3: prot: unknown key; did you mean \\"port\\"?" >&2\necho "$3: window.rows: expected an integer" >&2\nexit 1\n')
            effective, errors = config_check(binary, "{}")
            self.assertIsNone(effective)
            self.assertEqual(errors, ['prot: unknown key; did you mean "port"?', "window.rows: expected an integer"])

    def test_effective_configuration(self):
        with tempfile.TemporaryDirectory() as d:
            binary = fake_binary(d, 'echo \'{"port": 8080}\'\n')
            self.assertEqual(config_check(binary, "{}"), ({"port": 8080}, []))

    def test_a_crash_is_not_a_verdict(self):
        with tempfile.TemporaryDirectory() as d:
            binary = fake_binary(d, "echo boom >&2\nexit 2\n")
            with self.assertRaises(DriftwatchNotFound):
                config_check(binary, "{}")


@unittest.skipUnless(os.environ.get("DRIFTWATCH_BIN"), "DRIFTWATCH_BIN not set (scripts/test.sh sets it after swift build)")
class RealBinaryTests(unittest.TestCase):
    """The keys come from driftwatch itself, nested blocks included."""

    def test_unknown_nested_key(self):
        binary = os.environ["DRIFTWATCH_BIN"]
        _, errors = config_check(binary, '{"remediation": {"retrain": {"kind": "job", "job": {"image": "i", "gpu": 1}}}}')
        self.assertEqual(errors, ['remediation.retrain.job.gpu: unknown key; did you mean "gpus"?'])
        effective, errors = config_check(binary, '{"port": 9000}')
        self.assertEqual(errors, [])
        self.assertEqual(effective["port"], 9000)
        self.assertEqual(effective["durability"], "process_crash")


if __name__ == "__main__":
    unittest.main()

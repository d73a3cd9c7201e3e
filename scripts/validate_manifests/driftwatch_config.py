"""The configuration in a ConfigMap, checked by driftwatch itself.

`driftwatch config check FILE` is the one authority on which keys exist, what type each takes and
what each block allows (it decodes strictly: an unknown key is an error naming its path and the
nearest known key). The validator asks it instead of reading Swift source. No third-party imports.
"""
import os
import subprocess
import tempfile


class DriftwatchNotFound(Exception):
    """No driftwatch binary: set DRIFTWATCH_BIN or build first (`swift build`)."""


def find_driftwatch(root, environ=None, run=subprocess.run):
    """The driftwatch executable: $DRIFTWATCH_BIN, else the one `swift build --show-bin-path`
    names for the package at `root` (the build directory whatever the configuration or triple)."""
    environ = os.environ if environ is None else environ
    given = environ.get("DRIFTWATCH_BIN")
    if given:
        if os.access(given, os.X_OK):
            return given
        raise DriftwatchNotFound(f"DRIFTWATCH_BIN={given} is not an executable")
    try:
        r = run(["swift", "build", "--show-bin-path"], cwd=root, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DriftwatchNotFound(f"swift build --show-bin-path failed: {e}")
    if r.returncode != 0:
        raise DriftwatchNotFound("swift build --show-bin-path failed: " + " ".join((r.stderr or r.stdout).split())[:300])
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    binary = os.path.join(lines[-1].strip(), "driftwatch") if lines else ""
    if not os.access(binary, os.X_OK):
        raise DriftwatchNotFound(f"{binary or 'driftwatch'} is not built (run `swift build` first, or set DRIFTWATCH_BIN)")
    return binary


def config_check(binary, text, run=subprocess.run):
    """Runs `driftwatch config check` on configuration `text`.

    Returns (effective, errors): the effective configuration (a dict with every default) and no
    errors, or None and the errors as `path: message` strings (the file name driftwatch puts in
    front is taken off, the file being a temporary one).
    """
    fd, path = tempfile.mkstemp(prefix="driftwatch-config-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        r = run([binary, "config", "check", path], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    if r.returncode == 0:
        import json
        return json.loads(r.stdout), []
    if r.returncode != 1:
        raise DriftwatchNotFound(f"{binary} config check exited {r.returncode}: " + " ".join((r.stderr or r.stdout).split())[:300])
    prefix = path + ": "
    errors = [line[len(prefix):] if line.startswith(prefix) else line for line in r.stderr.splitlines() if line.strip()]
    return None, errors or ["driftwatch config check failed without a message"]

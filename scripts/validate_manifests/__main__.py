"""`python -m validate_manifests ROOT ...` (run by scripts/validate-manifests.sh, which makes the venv)."""
import sys
import traceback

from .cli import main

if __name__ == "__main__":
    # An unexpected Python error is a set-up problem (exit 2), not a verdict on the manifests (exit 1).
    try:
        sys.exit(main(sys.argv[1:]))
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        print("validate-manifests: internal error (above)", file=sys.stderr)
        sys.exit(2)

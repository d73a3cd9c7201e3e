"""What one run validates against: the repository root and the Kubernetes schemas' version.

Set by `cli.main` (and by tests) before any check runs; the checks read it as `ctx.NAME`.
"""
ROOT = None         # the repository root
deploy_dir = None   # ROOT/deploy
K8S_WANT = None     # the Kubernetes version asked for (K8S_VERSION or kubernetes-validate's newest)
K8S_VERSION = None  # the newest version with schemas at or below it
STRICT_DIR = None   # its strict schema directory
K8S_DEFS = None     # its _definitions.json

K8S = "https://kubernetes.io/api/_definitions.json#/$defs/"
GPU = "nvidia.com/gpu"


def set_root(root):
    global ROOT, deploy_dir
    import os
    ROOT = root
    deploy_dir = os.path.join(root, "deploy")

"""Small helpers over parsed documents (no third-party imports)."""


def jpath(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out or "(document)"


def dig(obj, *keys):
    for k in keys:
        if isinstance(obj, dict):
            obj = obj.get(k)
        elif isinstance(obj, list) and isinstance(k, int) and -len(obj) <= k < len(obj):
            obj = obj[k]
        else:
            return None
    return obj

def as_list(v):
    return v if isinstance(v, list) else []

def as_dict(v):
    return v if isinstance(v, dict) else {}

def label_of(obj):
    md = as_dict(obj.get("metadata"))
    name = md.get("name") or (md.get("generateName") and md["generateName"] + "*") or "(no name)"
    return f"{obj.get('kind')} {name}"

FRAMEWORKS = ["sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "pmml",
              "lightgbm", "paddle", "model"]

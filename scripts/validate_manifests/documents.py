"""Loading YAML or JSON documents strictly: duplicate keys are errors; Lists and arrays unfold."""
import sys

import yaml

from .report import fail


class StrictLoader(yaml.SafeLoader):
    pass

def _mapping(loader, node, deep=False):
    seen = set()
    for k_node, _ in node.value:
        if k_node.tag == "tag:yaml.org,2002:merge":
            continue
        k = loader.construct_object(k_node, deep=True)
        if isinstance(k, (str, int, float, bool)) or k is None:
            if k in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {k!r}", k_node.start_mark)
            seen.add(k)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)

def _value(loader, node):  # keys like "=" (see kubernetes-validate)
    return str(node.value)

StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
StrictLoader.add_constructor("tag:yaml.org,2002:value", _value)

def load_documents(path, display):
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        fail(display, None, f"cannot read: {e.strerror}")
        return None
    try:
        raw = [d for d in yaml.load_all(text, Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        fail(display, None, "not valid YAML/JSON: " + " ".join(str(e).split()))
        return None
    docs = []
    for d in raw:
        items = d if isinstance(d, list) else [d]
        for it in items:
            if isinstance(it, dict) and it.get("kind") == "List" and isinstance(it.get("items"), list):
                docs.extend(it["items"])
            else:
                docs.append(it)
    return docs

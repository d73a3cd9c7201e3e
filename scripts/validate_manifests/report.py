"""Failures and the per-file labels of one run, and the final summary."""

failures = []            # (display, label, message)
file_labels = {}         # display -> [label]
file_order = []


def reset():
    failures.clear()
    file_labels.clear()
    file_order.clear()

def fail(display, label, msg):
    failures.append((display, label, msg))

def jpath(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out or "(document)"

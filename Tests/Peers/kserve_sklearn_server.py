"""A real KServe model server (PyPI kserve, pinned in scripts/setup-kserve.sh) serving small
scikit-learn models on 127.0.0.1, for driftwatch's KServe peer test
(Tests/DriftServerTests/KServePeerTests.swift).

    python kserve_sklearn_server.py --http_port 8080

Models (LogisticRegression on four numeric features, trained here with a fixed seed, so every
run serves the same coefficients):

- ``fraud``: ``predict_proba`` (KServe's sklearnserver with ``PREDICT_PROBA=true``): v1
  ``{"predictions": [[p0, p1], ...]}``, v2 one output ``output-0`` FP64 of shape [n, 2].
- ``fraud-labels``: ``predict`` on a model trained with string labels ("fraud"/"ok"): v1
  ``{"predictions": ["ok", ...]}``, v2 ``output-0`` BYTES of shape [n].
- ``fraud-multi``: a custom model whose ``predict`` returns a data frame with the columns
  ``label`` and ``proba``: v1 predictions are row objects, v2 has two outputs (one per column),
  as ``kserve.utils.utils.get_predict_response`` makes them.

``SKLearnModel.predict`` is KServe's sklearnserver's (python/sklearnserver/sklearnserver/
model.py: ``get_predict_input``, ``predict_proba`` or ``predict``, ``get_predict_response``),
with the ``PREDICT_PROBA`` environment variable replaced by a per-model flag so that one process
serves both variants. The only other change is where it listens: KServe's REST server binds
0.0.0.0 (kserve/protocol/rest/server.py); here uvicorn is told 127.0.0.1, and gRPC is off.
"""

import argparse
import importlib.metadata
import logging
import signal

import numpy as np
import pandas as pd
import uvicorn
from sklearn.linear_model import LogisticRegression

import kserve.protocol.rest.server as rest_server
from kserve import Model, ModelServer
from kserve.errors import InferenceError
from kserve.utils.utils import get_predict_input, get_predict_response

FEATURES = ["amount", "account_age_days", "tx_last_24h", "distance_km"]


class LoopbackConfig(uvicorn.Config):
    """uvicorn's configuration with the host forced to loopback."""

    def __init__(self, *args, **kwargs):
        kwargs["host"] = "127.0.0.1"
        super().__init__(*args, **kwargs)


rest_server.uvicorn.Config = LoopbackConfig


def training_data(n: int = 4000, seed: int = 20261129):
    """Four numeric features and a fraud label that depends on them (deterministic)."""
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(mean=3.5, sigma=0.8, size=n)
    account_age_days = rng.uniform(1, 3000, size=n)
    tx_last_24h = rng.poisson(3, size=n).astype(float)
    distance_km = rng.exponential(50, size=n)
    x = np.column_stack([amount, account_age_days, tx_last_24h, distance_km])
    logit = -4.0 + 0.02 * amount - 0.001 * account_age_days + 0.3 * tx_last_24h + 0.01 * distance_km
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


class SKLearnModel(Model):
    """KServe's sklearnserver model, around an estimator trained in this process."""

    def __init__(self, name: str, estimator, predict_proba: bool):
        super().__init__(name)
        self._model = estimator
        self.predict_proba = predict_proba
        self.ready = True

    def predict(self, payload, headers=None):
        try:
            instances = get_predict_input(payload)
            if self.predict_proba and hasattr(self._model, "predict_proba"):
                result = self._model.predict_proba(instances)
            else:
                result = self._model.predict(instances)
            return get_predict_response(payload, result, self.name)
        except Exception as e:
            raise InferenceError(str(e))


class FrameModel(Model):
    """A custom model answering a data frame (one v2 output per column)."""

    def __init__(self, name: str, estimator):
        super().__init__(name)
        self._model = estimator
        self.ready = True

    def predict(self, payload, headers=None):
        try:
            instances = get_predict_input(payload)
            proba = self._model.predict_proba(instances)[:, 1]
            frame = pd.DataFrame({"label": np.where(proba >= 0.5, "fraud", "ok"), "proba": proba})
            return get_predict_response(payload, frame, self.name)
        except Exception as e:
            raise InferenceError(str(e))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http_port", type=int, required=True)
    args, _ = parser.parse_known_args()
    # A child of an async XCTest can inherit a blocked SIGTERM (ChildProcess.swift): unblock it so
    # that the test's SIGTERM stops the server at once instead of after the SIGKILL grace period.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    logging.getLogger().setLevel(logging.WARNING)
    x, y = training_data()
    proba_model = LogisticRegression(max_iter=1000).fit(x, y)
    label_model = LogisticRegression(max_iter=1000).fit(x, np.where(y == 1, "fraud", "ok"))
    models = [
        SKLearnModel("fraud", proba_model, predict_proba=True),
        SKLearnModel("fraud-labels", label_model, predict_proba=False),
        FrameModel("fraud-multi", proba_model),
    ]
    print(f"kserve {importlib.metadata.version('kserve')} serving {[m.name for m in models]} on 127.0.0.1:{args.http_port}", flush=True)
    ModelServer(http_port=args.http_port, enable_grpc=False, workers=1).start(models)


if __name__ == "__main__":
    main()

"""Train the bundled demo classifier (numpy only, reproducible with a fixed seed).

Data: Fisher's Iris data set (examples/iris/iris.csv, as shipped with scikit-learn), the two petal
features (length, width in cm), three classes.  Model: a 2-6-6-3 ReLU network trained with
full-batch Adam on the softmax cross-entropy.  The weights are stored as float32 values in
exactrelu/data/demo_classifier.json; exactrelu reads each one as the exact dyadic rational it is.

    python examples/iris/train.py          # rewrites exactrelu/data/demo_classifier.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parent.parent / "exactrelu" / "data" / "demo_classifier.json"
WIDTHS = [2, 6, 6, 3]
SEED = 0
STEPS = 4000


def load() -> tuple[np.ndarray, np.ndarray]:
    rows = (HERE / "iris.csv").read_text().strip().splitlines()[1:]
    data = np.array([[float(v) for v in row.split(",")] for row in rows])
    return data[:, 2:4], data[:, 4].astype(int)


def forward(params, x):
    acts = [x]
    for k, (w, b) in enumerate(params):
        z = acts[-1] @ w.T + b
        acts.append(np.maximum(z, 0.0) if k < len(params) - 1 else z)
    return acts


def train() -> tuple[list, float]:
    x, y = load()
    rng = np.random.default_rng(SEED)
    params = [(rng.normal(size=(o, i)) * np.sqrt(2.0 / i), np.zeros(o)) for i, o in zip(WIDTHS[:-1], WIDTHS[1:])]
    moments = [[np.zeros_like(w), np.zeros_like(b), np.zeros_like(w), np.zeros_like(b)] for w, b in params]
    onehot = np.eye(WIDTHS[-1])[y]
    lr, beta1, beta2 = 0.01, 0.9, 0.999
    for step in range(1, STEPS + 1):
        acts = forward(params, x)
        logits = acts[-1] - acts[-1].max(axis=1, keepdims=True)
        prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        grad = (prob - onehot) / len(x)
        for k in range(len(params) - 1, -1, -1):
            w, b = params[k]
            gw, gb = grad.T @ acts[k], grad.sum(axis=0)
            grad = (grad @ w) * (acts[k] > 0)
            m = moments[k]
            for t, g in enumerate((gw, gb)):
                m[t] = beta1 * m[t] + (1 - beta1) * g
                m[t + 2] = beta2 * m[t + 2] + (1 - beta2) * g * g
            corr1, corr2 = 1 - beta1**step, 1 - beta2**step
            params[k] = (w - lr * (m[0] / corr1) / (np.sqrt(m[2] / corr2) + 1e-8),
                         b - lr * (m[1] / corr1) / (np.sqrt(m[3] / corr2) + 1e-8))
    params32 = [(w.astype(np.float32), b.astype(np.float32)) for w, b in params]
    predicted = forward([(w.astype(float), b.astype(float)) for w, b in params32], x)[-1].argmax(axis=1)
    return params32, float((predicted == y).mean())


def main() -> None:
    params, accuracy = train()
    doc = {
        "format": "exactrelu-network",
        "version": 1,
        "description": f"Iris petal length/width -> setosa, versicolor, virginica; 2-6-6-3 ReLU, float32 weights, "
                       f"training accuracy {accuracy:.3f} (examples/iris/train.py, seed {SEED})",
        "layers": [{"weight": [[float(v) for v in row] for row in w], "bias": [float(v) for v in b]} for w, b in params],
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} (training accuracy {accuracy:.3f})")


if __name__ == "__main__":
    main()

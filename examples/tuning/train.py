"""A trainer tuned by a HyperparameterTuningJob: the same file runs unchanged on Vertex.

It fits a linear model to synthetic data by gradient descent. `--learning_rate` and
`--steps` arrive as Vertex passes parameters (`--<parameterId>=<value>`), and the
validation loss is reported with cloudml-hypertune every 10 steps (intermediate
measurements) and at the end. Too high a learning rate diverges, too low learns little:
the study has a real optimum to find.
"""

from __future__ import annotations

import argparse
import math
import os
import random

import hypertune

FEATURES = 4
TRUE_WEIGHTS = [0.5, -1.0, 2.0, 0.25]


def data(n: int, seed: int) -> list[tuple[list[float], float]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        x = [rng.uniform(-1, 1) for _ in range(FEATURES)]
        rows.append((x, sum(w * v for w, v in zip(TRUE_WEIGHTS, x)) + rng.gauss(0, 0.05)))
    return rows


def loss(weights: list[float], rows: list[tuple[list[float], float]]) -> float:
    total = sum((sum(w * v for w, v in zip(weights, x)) - y) ** 2 for x, y in rows) / len(rows)
    return total if math.isfinite(total) else 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    train, valid = data(200, seed=1), data(100, seed=2)
    weights = [0.0] * FEATURES
    tuner = hypertune.HyperTune()
    for step in range(1, args.steps + 1):
        grad = [0.0] * FEATURES
        for x, y in train:
            error = sum(w * v for w, v in zip(weights, x)) - y
            for i in range(FEATURES):
                grad[i] += 2 * error * x[i] / len(train)
        weights = [max(-1e6, min(1e6, w - args.learning_rate * g)) for w, g in zip(weights, grad)]
        if step % 10 == 0 or step == args.steps:
            tuner.report_hyperparameter_tuning_metric(
                hyperparameter_metric_tag="val_loss", metric_value=loss(weights, valid), global_step=step
            )
    model_dir = os.environ.get("AIP_MODEL_DIR")
    if model_dir and not model_dir.startswith("gs://"):
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "weights.txt"), "w") as f:
            f.write(" ".join(f"{w:.6f}" for w in weights) + "\n")
    print(f"lr={args.learning_rate} steps={args.steps} val_loss={loss(weights, valid):.6f}")


if __name__ == "__main__":
    main()

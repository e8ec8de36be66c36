"""A sparse linear classifier over named features, stored as JSON next to the spaCy model.

Fitted with scikit-learn's LogisticRegression at training time (`make train`); at extraction time it is
a dictionary look-up and a softmax in numpy, so the shipped package needs no scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

Features = Iterable[str]


class LinearModel:
    """P(class | features) = softmax(sum of the features' weights + bias); features are binary."""

    def __init__(self, classes: Sequence[str], weights: dict[str, list[float]], bias: Sequence[float]):
        self.classes = list(classes)
        self.index = {c: i for i, c in enumerate(self.classes)}
        self.bias = np.asarray(bias, dtype=np.float64)
        self.row = {f: i for i, f in enumerate(weights)}
        self.matrix = np.asarray(list(weights.values()), dtype=np.float32).reshape(len(self.row), -1)

    def proba(self, features: Features) -> dict[str, float]:
        rows = [i for f in set(features) if (i := self.row.get(f)) is not None]
        score = self.bias + self.matrix[rows].sum(axis=0, dtype=np.float64) if rows else self.bias.copy()
        if len(self.classes) == 2 and len(score) == 1:  # binary: one logit for the second class
            p = 1.0 / (1.0 + np.exp(-score[0]))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        score -= score.max()
        e = np.exp(score)
        e /= e.sum()
        return {c: float(e[i]) for i, c in enumerate(self.classes)}

    @classmethod
    def fit(cls, rows: list[list[str]], labels: list[str], c: float = 1.0, min_count: int = 2) -> LinearModel:
        """Logistic regression (L2, strength 1/c) over the features seen in at least `min_count` rows."""
        from collections import Counter  # noqa: PLC0415

        from sklearn.feature_extraction import DictVectorizer  # noqa: PLC0415
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

        counts = Counter(f for row in rows for f in set(row))
        kept = [{f: 1 for f in set(row) if counts[f] >= min_count} for row in rows]
        vec = DictVectorizer()
        x = vec.fit_transform(kept)
        model = LogisticRegression(C=c, max_iter=2000, class_weight=None)
        model.fit(x, labels)
        classes = [str(k) for k in model.classes_]
        coef = model.coef_  # (1, n) for two classes, else (k, n)
        names = vec.get_feature_names_out()
        weights = {
            str(name): [round(float(v), 5) for v in coef[:, j]]
            for j, name in enumerate(names)
            if np.any(np.abs(coef[:, j]) > 1e-4)
        }
        return cls(classes, weights, [float(b) for b in model.intercept_])

    def to_disk(self, path: str | Path) -> None:
        data = {
            "classes": self.classes,
            "bias": self.bias.tolist(),
            "weights": {f: [round(float(v), 5) for v in self.matrix[i]] for f, i in sorted(self.row.items())},
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def from_disk(cls, path: str | Path) -> LinearModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["classes"], data["weights"], data["bias"])

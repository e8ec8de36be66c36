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
        self.weights = {f: np.asarray(w, dtype=np.float64) for f, w in weights.items()}
        self.bias = np.asarray(bias, dtype=np.float64)
        self.row = {f: i for i, f in enumerate(self.weights)}
        self.matrix = np.asarray(list(self.weights.values()), dtype=np.float64).reshape(len(self.row), -1)

    def proba(self, features: Features) -> dict[str, float]:
        rows = [i for f in set(features) if (i := self.row.get(f)) is not None]
        score = self.bias + self.matrix[rows].sum(axis=0) if rows else self.bias.copy()
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
            "weights": {f: w.tolist() for f, w in sorted(self.weights.items())},
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def from_disk(cls, path: str | Path) -> LinearModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["classes"], data["weights"], data["bias"])


class TreeModel:
    """Gradient-boosted trees (LightGBM) over the same binary features: learns their interactions
    ("in the headline" and "after a buying word") that a linear model can only add up."""

    def __init__(self, classes: Sequence[str], names: Sequence[str], booster_text: str):
        import lightgbm  # noqa: PLC0415

        self.classes = list(classes)
        self.names = list(names)
        self.column = {n: i for i, n in enumerate(self.names)}
        self.booster_text = booster_text
        self.booster = lightgbm.Booster(model_str=booster_text)

    def _matrix(self, rows: list[Iterable[str]]):
        from scipy.sparse import csr_matrix  # noqa: PLC0415

        indptr, indices = [0], []
        for row in rows:
            cols = sorted({self.column[f] for f in row if f in self.column})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return csr_matrix((data, indices, indptr), shape=(len(rows), len(self.names)))

    def proba_many(self, rows: list[Iterable[str]]) -> list[dict[str, float]]:
        if not rows:
            return []
        p = self.booster.predict(self._matrix(rows))
        if p.ndim == 1:
            return [{self.classes[0]: 1.0 - float(x), self.classes[1]: float(x)} for x in p]
        return [{c: float(r[i]) for i, c in enumerate(self.classes)} for r in p]

    def proba(self, features: Features) -> dict[str, float]:
        return self.proba_many([list(features)])[0]

    @classmethod
    def fit(
        cls, rows: list[list[str]], labels: list[str], min_count: int = 3, rounds: int = 300, **params
    ) -> TreeModel:
        from collections import Counter  # noqa: PLC0415

        import lightgbm  # noqa: PLC0415

        counts = Counter(f for row in rows for f in set(row))
        names = sorted(f for f, n in counts.items() if n >= min_count)
        classes = sorted(set(labels))
        model = cls.__new__(cls)
        model.classes, model.names = classes, names
        model.column = {n: i for i, n in enumerate(names)}
        x = model._matrix(rows)
        y = np.asarray([classes.index(lab) for lab in labels])
        base = {
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_data_in_leaf": 5,
            "feature_fraction": 0.5,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "verbose": -1,
            "seed": 7,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
        }
        if len(classes) == 2:
            base.update(objective="binary")
        else:
            base.update(objective="multiclass", num_class=len(classes))
        base.update(params)
        booster = lightgbm.train(base, lightgbm.Dataset(x, y, free_raw_data=False), num_boost_round=rounds)
        return cls(classes, names, booster.model_to_string())

    def to_disk(self, path: str | Path) -> None:
        Path(path).write_text(
            json.dumps(
                {"kind": "trees", "classes": self.classes, "names": self.names, "booster": self.booster_text}
            ),
            encoding="utf-8",
        )

"""Prediction as one product: the unnormalised tf-idf blocks times the classifiers' non-zero
coefficient rows only (float32), each row's decision values scaled by its l2 norm, and the
sigmoid calibrators applied in numpy.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from analytics.ingest.categories.features import FeatureStep, TfidfBlock


@dataclass(frozen=True)
class LinearScorer:
    """The calibrated linear classifiers of a model as one compact matrix product.

    Only features with a non-zero coefficient in some classifier matter to the decision values;
    they get consecutive rows of `coef` (float32, one column per classifier and class) and every
    other feature points at a final zero row. Probabilities then follow scikit-learn's
    CalibratedClassifierCV exactly: sigmoid per class, normalised per classifier, averaged.
    """

    lookup: np.ndarray  # (n_features,) int32: feature -> row of coef
    coef: np.ndarray  # (n_used + 1, n_members * n_classes) float32
    intercept: np.ndarray  # (n_members * n_classes,) float32
    a: np.ndarray  # sigmoid slope per column
    b: np.ndarray  # sigmoid offset per column
    classes: np.ndarray  # class index of each column
    members: tuple[tuple[int, int], ...]  # each classifier's columns (start, stop)
    n_classes: int

    @classmethod
    def of(cls, classifier: Any, n_features: int) -> LinearScorer | None:
        """The scorer of a fitted multiclass CalibratedClassifierCV over LinearSVC with sigmoid
        calibration; None for anything else (the caller then uses scikit-learn)."""
        if not isinstance(classifier, CalibratedClassifierCV) or len(classifier.classes_) < 3:
            return None
        coefs, intercepts, a, b, classes = [], [], [], [], []
        for member in classifier.calibrated_classifiers_:
            est = member.estimator
            if not isinstance(est, LinearSVC) or est.coef_.shape[1] != n_features:
                return None
            if not all(isinstance(c, _SigmoidCalibration) for c in member.calibrators):
                return None
            if est.coef_.shape[0] != len(est.classes_):
                return None
            coefs.append(est.coef_)
            intercepts.append(est.intercept_)
            a.extend(c.a_ for c in member.calibrators)
            b.extend(c.b_ for c in member.calibrators)
            classes.append(np.searchsorted(classifier.classes_, est.classes_))
        stacked = np.vstack(coefs)  # (columns, n_features)
        bounds = np.cumsum([0, *(len(c) for c in coefs)])
        used = np.flatnonzero(np.any(stacked != 0.0, axis=0))
        lookup = np.full(n_features, len(used), dtype=np.int32)
        lookup[used] = np.arange(len(used), dtype=np.int32)
        coef = np.zeros((len(used) + 1, stacked.shape[0]), dtype=np.float32)
        coef[:-1] = stacked[:, used].T
        return cls(
            lookup=lookup,
            coef=coef,
            intercept=np.concatenate(intercepts).astype(np.float32),
            a=np.array(a, dtype=np.float64),
            b=np.array(b, dtype=np.float64),
            classes=np.concatenate(classes),
            members=tuple(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)),
            n_classes=len(classifier.classes_),
        )

    def predict_proba(self, blocks: list[TfidfBlock]) -> np.ndarray:
        offsets = np.cumsum([0, *(b.matrix.shape[1] for b in blocks)])
        return self.calibrated(sum(self.partial(b, int(o)) for b, o in zip(blocks, offsets, strict=False)))

    def partial(self, block: TfidfBlock, offset: int) -> np.ndarray:
        """One block's share of the decision values (n, columns); the block's features start at
        `offset` of the model's feature space."""
        x = block.matrix
        rows = self.lookup[offset : offset + x.shape[1]][x.indices]
        compact = sparse.csr_matrix(
            (x.data.astype(np.float32, copy=False), rows, x.indptr), shape=(x.shape[0], self.coef.shape[0])
        )
        return (compact @ self.coef) * block.scale[:, None]

    def calibrated(self, shares: np.ndarray) -> np.ndarray:
        """Class probabilities from the summed block shares of the decision values."""
        decision = shares + self.intercept
        n = len(decision)
        p = expit(-(decision * self.a + self.b))
        k = self.n_classes
        total = np.zeros((n, k))
        for start, stop in self.members:
            proba = np.zeros((n, k))
            proba[:, self.classes[start:stop]] = p[:, start:stop]
            denominator = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, denominator, out=np.full_like(proba, 1 / k), where=denominator != 0)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        return total / len(self.members)


_scorers: weakref.WeakKeyDictionary[Pipeline, LinearScorer | None] = weakref.WeakKeyDictionary()


def _scorer(model: Pipeline, steps: list[FeatureStep]) -> LinearScorer | None:
    if model not in _scorers:
        _scorers[model] = LinearScorer.of(model.steps[-1][1], sum(1 << h.n_bits for h, _, _ in steps))
    return _scorers[model]

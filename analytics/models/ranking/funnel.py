"""The funnel plot: each compound's rate against its expected count, with control limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.models.ranking.components import Components

FUNNEL_Z = {"95": 1.959964, "99.8": 3.090232}


@dataclass
class FunnelData:
    """Points (one per compound) and control-limit curves for a funnel plot of rate vs expected count.

    Limits come from an additive random-effects model on the ratio scale (Spiegelhalter 2005):
    ratio = observed/expected, limits 1 ± z * sqrt(1/expected + tau2), tau2 estimated by
    DerSimonian-Laird from winsorised z-scores, so real between-compound differences do not flag
    every large compound. `tau2 = 0` means plain Poisson limits.
    """

    points: pd.DataFrame
    curve: pd.DataFrame
    district_rate: float
    tau2: float
    rate_basis: str


def funnel(comps: Components, min_tickets: int = 1, winsor: float = 0.1) -> FunnelData:
    """Funnel points of the compounds with at least `min_tickets` tickets, and the limit curves."""
    f = comps.frame[(comps.frame["tickets"] >= min_tickets) & (comps.frame["exposure"] > 0)].copy()
    district = f["tickets"].sum() / f["exposure"].sum()
    f["expected"] = district * f["exposure"]
    f["ratio"] = f["tickets"] / f["expected"]
    z = (f["ratio"] - 1.0) * np.sqrt(f["expected"])
    lo, hi = z.quantile([winsor, 1 - winsor])
    zw = z.clip(lo, hi)
    w = f["expected"]
    k = len(f)
    tau2 = (
        max(0.0, ((zw**2).sum() - (k - 1)) / max(w.sum() - (w**2).sum() / w.sum(), 1e-12)) if k > 2 else 0.0
    )
    f["rate"] = f["ratio"] * district
    sd = np.sqrt(1.0 / f["expected"] + tau2)
    f["z_adjusted"] = (f["ratio"] - 1.0) / sd
    f["flag"] = np.select(
        [f["z_adjusted"] > FUNNEL_Z["99.8"], f["z_adjusted"] > FUNNEL_Z["95"],
         f["z_adjusted"] < -FUNNEL_Z["99.8"], f["z_adjusted"] < -FUNNEL_Z["95"]],
        ["高于99.8%上限", "高于95%上限", "低于99.8%下限", "低于95%下限"],
        "正常范围",
    )  # fmt: skip
    grid = np.geomspace(max(f["expected"].min(), 0.5), f["expected"].max() * 1.05, 100) if k else np.array([])
    curve = pd.DataFrame({"expected": grid})
    for name, zv in FUNNEL_Z.items():
        half = zv * np.sqrt(1.0 / grid + tau2)
        curve[f"ratio_low_{name}"] = np.maximum(0.0, 1 - half)
        curve[f"ratio_high_{name}"] = 1 + half
        curve[f"rate_low_{name}"] = curve[f"ratio_low_{name}"] * district
        curve[f"rate_high_{name}"] = curve[f"ratio_high_{name}"] * district
    cols = ["compound_id", "name", "tickets", "exposure", "expected", "ratio", "rate", "z_adjusted", "flag"]
    return FunnelData(f[cols].reset_index(drop=True), curve, float(district), float(tau2), comps.rate_basis)

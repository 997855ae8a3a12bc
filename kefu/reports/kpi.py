"""KPI formulas (DESIGN.md, "KPI formulas"): one definition used by dashboard, API and
report alike. Pure Python: the database layer (``kefu.reports.selectors``) counts, this
module turns counts into figures.

Every figure is ``{"value": v, "numerator": n, "denominator": d}``. A ratio or mean with an
empty denominator has ``value`` ``None`` (``null`` in JSON, "—" on screen), never 0 % or
100 %. Durations are in seconds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict


class Figure(TypedDict):
    value: float | None
    numerator: float
    denominator: float


def ratio(numerator: float, denominator: float) -> Figure:
    """``numerator / denominator``; ``None`` when the denominator is 0."""
    value = None if denominator == 0 else numerator / denominator
    return {"value": value, "numerator": numerator, "denominator": denominator}


def mean(total: float, count: float) -> Figure:
    """An average duration (seconds): the same shape as a ratio."""
    return ratio(total, count)


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


SHORT_ABANDON_S = 5
DEFAULT_SERVICE_LEVEL_S = 20


def service_level(answered_within: int, offered: int, short_abandons: int) -> Figure:
    """Calls answered with wait ≤ T ÷ (offered calls − calls abandoned within 5 s)."""
    return ratio(answered_within, offered - short_abandons)


def display(figure: Figure, *, percent: bool = True, digits: int = 1) -> str:
    """How a figure reads on screen: "—" for no value."""
    value = figure["value"]
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.{digits}f}%"
    return f"{value:.{digits}f}"

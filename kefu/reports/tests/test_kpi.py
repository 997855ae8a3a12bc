"""The pure KPI formulas (kefu.reports.kpi, no database): medians, ratios with empty
denominators, and the service level's arithmetic."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.reports import kpi


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([42], 42.0),
        ([30, 10, 20], 20.0),  # odd count: the middle value, not a mean of two
        ([5, 1, 9, 1, 100], 5.0),
        ([10, 20], 15.0),
        ([40, 10, 30, 20], 25.0),
    ],
)
def test_median(values: list[float], expected: float | None) -> None:
    assert kpi.median(values) == expected


@given(st.lists(st.integers(0, 10**6), min_size=1).filter(lambda v: len(v) % 2 == 1))
def test_an_odd_count_median_is_one_of_the_values(values: list[int]) -> None:
    assert kpi.median(values) == statistics.median(values)
    assert kpi.median(values) in values


def test_service_level_leaves_short_abandons_out_of_the_denominator() -> None:
    assert kpi.service_level(answered_within=6, offered=10, short_abandons=2) == {
        "value": 0.75,
        "numerator": 6,
        "denominator": 8,
    }
    # Every offered call abandoned within 5 s: no figure, never 0 % or 100 %.
    assert kpi.service_level(0, 3, 3)["value"] is None
    assert kpi.display(kpi.service_level(0, 3, 3)) == "—"


def test_the_contract_defaults() -> None:
    # DESIGN.md: "T from the contract, 20 s by default"; "abandoned with wait ≤ 5 s".
    assert (kpi.DEFAULT_SERVICE_LEVEL_S, kpi.SHORT_ABANDON_S) == (20, 5)

"""KPI against the contract: pass or fail per target, and the service credit that follows
from the contract's rules (a share of the monthly fee per missed KPI, capped per month)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kefu.contracts.models import Comparison, Contract


def kpi_value(kpis: dict[str, Any], key: str) -> float | None:
    """The value of a contract's KPI key in the report's ``kpis`` (``None`` when the
    figure has none, or the snapshot predates it). A part of a figure is named after it:
    ``first_response.within_target`` and ``chat_first_response.median`` are nested in
    ``first_response`` and ``chat_first_response``; ``sla.<metric>`` is a figure of its own."""
    figure = kpis.get(key)
    if figure is None and "." in key:
        parent, part = key.split(".", 1)
        figure = (kpis.get(parent) or {}).get(part)
    if isinstance(figure, dict):
        value: float | None = figure["value"]
        return value
    return figure


def evaluate(contract: Contract, kpis: dict[str, Any]) -> dict[str, Any]:
    """A row per KPI target: the figure, the target, ``passed`` (None when the figure has no
    value: no data is neither a pass nor a miss, and costs no credit) and the credit."""
    rows = []
    credit = Decimal(0)
    for target in contract.kpi_targets.all():
        value = kpi_value(kpis, target.kpi)
        passed = None
        if value is not None:
            passed = (
                value >= target.target
                if target.comparison == Comparison.AT_LEAST
                else value <= target.target
            )
        row_credit = Decimal(0)
        if passed is False:
            row_credit = contract.monthly_fee * target.credit_percent / 100
        credit += row_credit
        rows.append(
            {
                "kpi": target.kpi,
                "label": target.label,
                "value": value,
                "comparison": target.comparison,
                "target": target.target,
                "passed": passed,
                "credit_percent": float(target.credit_percent),
                "credit": float(row_credit),
            }
        )
    cap = contract.monthly_fee * contract.credit_cap_percent / 100
    total = min(credit, cap) if contract.credit_cap_percent else credit
    return {
        "contract": contract.number,
        "monthly_fee": float(contract.monthly_fee),
        "currency": contract.currency,
        "targets": rows,
        "credit_before_cap": float(credit),
        "credit_cap": float(cap),
        "credit": float(total),
    }

"""SLA policies from YAML (the contract's time promises). Example: examples/sla/*.yaml."""

from __future__ import annotations

from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from kefu.calendars.models import Calendar
from kefu.contracts.models import Client
from kefu.sla.models import Metric, SlaPolicy, SlaTarget
from kefu.tickets.models import Channel, Kind, Priority

_TARGET_FIELDS = {
    "metric",
    "seconds",
    "minutes",
    "calendar",
    "channels",
    "priorities",
    "kinds",
    "warn_percent",
    "breach_raise_priority",
}


def _list(value: Any, allowed: list[str], path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise ValidationError(f"{path}: 应为 {allowed} 中的值的列表 / expected a list of {allowed}")
    return [str(v) for v in value]


def target_seconds(target: dict[str, Any], path: str) -> int:
    """A target's duration: ``seconds: 30`` or ``minutes: 240``, exactly one of them, a
    positive whole number."""
    given = [key for key in ("seconds", "minutes") if key in target]
    if len(given) != 1:
        raise ValidationError(
            f"{path}: 需要 seconds 或 minutes 之一 / give exactly one of seconds, minutes"
        )
    (key,) = given
    value = target[key]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{path}.{key}: 正整数 / a positive whole number")
    return value * 60 if key == "minutes" else value


@transaction.atomic
def sla_policy_load(*, text: str) -> SlaPolicy:
    """Replace the client's active policy with the one in the YAML document. Running clocks
    keep the targets they started with (a target row in use is kept, inactive)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"YAML 格式错误 / invalid YAML: {exc}") from exc
    return sla_policy_apply(data=data)


@transaction.atomic
def sla_policy_apply(*, data: Any) -> SlaPolicy:
    """The same from parsed data: ``{"client", "name", "targets": [...]}``."""
    if not isinstance(data, dict):
        raise ValidationError("应为映射 / expected a mapping with client, name, targets")
    client = Client.objects.filter(code=str(data.get("client", ""))).first()
    if client is None:
        raise ValidationError(f"client: 未知的甲方 / unknown client {data.get('client')!r}")
    targets = data.get("targets")
    if not isinstance(targets, list) or not targets:
        raise ValidationError("targets: 至少一个目标 / at least one target")
    rows = []
    for i, t in enumerate(targets):
        path = f"targets[{i}]"
        if not isinstance(t, dict):
            raise ValidationError(f"{path}: 应为映射 / expected a mapping")
        unknown = set(t) - _TARGET_FIELDS
        if unknown:
            raise ValidationError(f"{path}: 未知字段 / unknown field(s) {sorted(unknown)}")
        if t.get("metric") not in Metric.values:
            raise ValidationError(f"{path}.metric: 应为 / expected one of {Metric.values}")
        seconds = target_seconds(t, path)
        calendar = Calendar.objects.filter(name=str(t.get("calendar", ""))).first()
        if calendar is None:
            raise ValidationError(
                f"{path}.calendar: 未知日历 / unknown calendar "
                f"{t.get('calendar')!r} (kefu calendar load FILE first)"
            )
        warn = t.get("warn_percent", 80)
        if not isinstance(warn, int) or not 1 <= warn <= 100:
            raise ValidationError(f"{path}.warn_percent: 1–100")
        rows.append(
            SlaTarget(
                metric=t["metric"],
                seconds=seconds,
                calendar=calendar,
                channels=_list(t.get("channels"), Channel.values, f"{path}.channels"),
                priorities=_list(t.get("priorities"), Priority.values, f"{path}.priorities"),
                kinds=_list(t.get("kinds"), Kind.values, f"{path}.kinds"),
                warn_percent=warn,
                breach_raise_priority=bool(t.get("breach_raise_priority", True)),
                order=i,
            )
        )
    SlaPolicy.objects.filter(client=client, active=True).update(active=False)
    policy = SlaPolicy.objects.create(client=client, name=str(data.get("name") or client.name))
    for row in rows:
        row.policy = policy
    SlaTarget.objects.bulk_create(rows)
    return policy

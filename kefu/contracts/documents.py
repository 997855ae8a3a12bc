"""Contracts as YAML documents: validated with errors that name the field and its line,
loaded into the contract tables (and the client's SLA policy), dumped back the same way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticError

from kefu.calendars.models import Calendar
from kefu.contracts.models import (
    ActionStatus,
    Client,
    Comparison,
    Contract,
    ImprovementGoal,
    KpiTarget,
)
from kefu.sla.models import SlaPolicy
from kefu.sla.policies import sla_policy_apply
from kefu.surveys.rules import SurveyDoc, survey_rule_apply, survey_rule_dump

KPI_KEYS = (
    "csat",
    "survey_response_rate",
    "fcr",
    "aht_call",
    "aht_chat",
    "asa",
    "service_level",
    "abandon_rate",
    "first_response",
    "first_response.within_target",
    "asa_chat",
    "chat_queue_wait",
    "chat_first_response",
    "chat_first_response.within_target",
    "chat_abandon_rate",
    "chats_per_agent",
    "resolution_rate",
    "complaint_rate",
    "sla.acknowledge",
    "sla.first_response",
    "sla.next_response",
    "sla.escalation",
    "sla.resolution",
)
Channel = Literal["email", "chat", "phone", "wechat", "portal", "api"]


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValueError(f"不是有效的邮箱地址 / not an email address: {value!r}") from exc
    return value


Recipient = Annotated[str, AfterValidator(_email)]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Term(_Doc):
    start: date
    end: date
    auto_renew: bool = False
    notice_days: int = Field(30, ge=0)


class Milestone(_Doc):
    due: date
    amount: Decimal = Field(..., ge=0)
    description: str = ""


class Fee(_Doc):
    monthly: Decimal = Field(..., ge=0)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    liquidated_damages_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    credit_cap_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    milestones: list[Milestone] = []


class Calendars(_Doc):
    service: str | None = None
    emergency: str | None = None


class KpiDoc(_Doc):
    kpi: Literal[KPI_KEYS]  # type: ignore[valid-type]
    label: str = Field(..., min_length=1)
    min: float | None = None
    max: float | None = None
    credit_percent: Decimal = Field(Decimal(0), ge=0, le=100)

    @property
    def bound(self) -> float:
        value = self.min if self.min is not None else self.max
        assert value is not None
        return value

    @model_validator(mode="after")
    def one_bound(self) -> KpiDoc:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min (≥) or max (≤)")
        return self


class Action(_Doc):
    description: str
    owner: str = ""
    due: date | None = None
    status: ActionStatus = ActionStatus.PLANNED


class GoalDoc(_Doc):
    kpi: Literal[KPI_KEYS]  # type: ignore[valid-type]
    baseline: float
    target: float
    due: date
    actions: list[Action] = []


class ContractDoc(_Doc):
    client: str
    number: str = Field(..., min_length=1, max_length=64)
    title: str = Field(..., min_length=1, max_length=200)
    party_a: str
    party_b: str
    term: Term
    fee: Fee
    channels: list[Channel] = Field(..., min_length=1)
    calendars: Calendars = Calendars()
    service_level_seconds: int = Field(20, ge=1, le=600)
    retention_days: int = Field(180, ge=0)
    report_recipients: list[Recipient] = []
    kpis: list[KpiDoc] = []
    sla_targets: list[dict[str, Any]] = []
    improvement_goals: list[GoalDoc] = []
    survey: SurveyDoc | None = None

    @model_validator(mode="after")
    def term_order(self) -> ContractDoc:
        if self.term.end < self.term.start:
            raise ValueError("term.end is before term.start")
        return self


def _lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map each field path of the document to its line number (1-based)."""
    out: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
                out.setdefault((*path, key.value), key.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return out


def contract_parse(text: str) -> ContractDoc:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"YAML 格式错误 / invalid YAML: {exc}") from exc
    try:
        return ContractDoc.model_validate(data)
    except PydanticError as exc:
        lines = _lines(text)
        messages = []
        for err in exc.errors()[:5]:
            path = tuple(err["loc"])
            while path and path not in lines:
                path = path[:-1]
            where = ".".join(str(p) for p in err["loc"]) or "(document)"
            messages.append(f"{where} (line {lines.get(path, 1)}): {err['msg']}")
        raise ValidationError(messages) from exc


def _calendar(name: str | None, field: str) -> Calendar | None:
    if name is None:
        return None
    calendar = Calendar.objects.filter(name=name).first()
    if calendar is None:
        raise ValidationError(f"calendars.{field}: 未知日历 / unknown calendar {name!r}")
    return calendar


@transaction.atomic
def contract_load(*, text: str) -> Contract:
    """Create or update (by client and number) a contract from YAML, with its KPI targets,
    improvement goals and SLA targets (which become the client's active SLA policy)."""
    doc = contract_parse(text)
    client = Client.objects.filter(code=doc.client).first()
    if client is None:
        raise ValidationError(f"client: 未知的甲方 / unknown client {doc.client!r}")
    contract, _ = Contract.objects.update_or_create(
        client=client,
        number=doc.number,
        defaults={
            "title": doc.title,
            "party_a": doc.party_a,
            "party_b": doc.party_b,
            "start_date": doc.term.start,
            "end_date": doc.term.end,
            "auto_renew": doc.term.auto_renew,
            "notice_days": doc.term.notice_days,
            "monthly_fee": doc.fee.monthly,
            "currency": doc.fee.currency,
            "liquidated_damages_percent": doc.fee.liquidated_damages_percent,
            "credit_cap_percent": doc.fee.credit_cap_percent,
            "channels": doc.channels,
            "service_calendar": _calendar(doc.calendars.service, "service"),
            "emergency_calendar": _calendar(doc.calendars.emergency, "emergency"),
            "service_level_seconds": doc.service_level_seconds,
            "retention_days": doc.retention_days,
            "report_recipients": doc.report_recipients,
            "payment_milestones": [m.model_dump(mode="json") for m in doc.fee.milestones],
            "source": text,
        },
    )
    contract.kpi_targets.all().delete()
    KpiTarget.objects.bulk_create(
        [
            KpiTarget(
                contract=contract,
                kpi=k.kpi,
                label=k.label,
                order=i,
                comparison=Comparison.AT_LEAST if k.min is not None else Comparison.AT_MOST,
                target=k.bound,
                credit_percent=k.credit_percent,
            )
            for i, k in enumerate(doc.kpis)
        ]
    )
    contract.goals.all().delete()
    ImprovementGoal.objects.bulk_create(
        [
            ImprovementGoal(
                contract=contract,
                kpi=g.kpi,
                baseline=g.baseline,
                target=g.target,
                due=g.due,
                actions=[a.model_dump(mode="json") for a in g.actions],
            )
            for g in doc.improvement_goals
        ]
    )
    survey_rule_apply(contract=contract, doc=doc.survey)
    if doc.sla_targets:
        sla_policy_apply(
            data={
                "client": client.code,
                "name": f"{doc.number} {doc.title}",
                "targets": doc.sla_targets,
            }
        )
    return contract


def contract_dump(contract: Contract) -> str:
    """The contract as a YAML document that ``contract_load`` reads back unchanged."""
    policy = SlaPolicy.objects.filter(client_id=contract.client_id, active=True).first()
    doc: dict[str, Any] = {
        "client": contract.client.code,
        "number": contract.number,
        "title": contract.title,
        "party_a": contract.party_a,
        "party_b": contract.party_b,
        "term": {
            "start": contract.start_date,
            "end": contract.end_date,
            "auto_renew": contract.auto_renew,
            "notice_days": contract.notice_days,
        },
        "fee": {
            "monthly": float(contract.monthly_fee),
            "currency": contract.currency,
            "liquidated_damages_percent": float(contract.liquidated_damages_percent),
            "credit_cap_percent": float(contract.credit_cap_percent),
            "milestones": [
                {
                    "due": date.fromisoformat(m["due"]),
                    "amount": float(m["amount"]),
                    "description": m["description"],
                }
                for m in contract.payment_milestones
            ],
        },
        "channels": list(contract.channels),
        "calendars": {
            "service": contract.service_calendar.name if contract.service_calendar else None,
            "emergency": contract.emergency_calendar.name if contract.emergency_calendar else None,
        },
        "service_level_seconds": contract.service_level_seconds,
        "retention_days": contract.retention_days,
        "report_recipients": list(contract.report_recipients),
        "kpis": [
            {
                "kpi": k.kpi,
                "label": k.label,
                ("min" if k.comparison == Comparison.AT_LEAST else "max"): k.target,
                "credit_percent": float(k.credit_percent),
            }
            for k in contract.kpi_targets.all()
        ],
        "sla_targets": [
            {
                key: value
                for key, value in {
                    "metric": t.metric,
                    # Whole minutes as contracts write them; seconds where they are not.
                    **(
                        {"minutes": t.seconds // 60}
                        if t.seconds % 60 == 0
                        else {"seconds": t.seconds}
                    ),
                    "calendar": t.calendar.name,
                    "channels": t.channels or None,
                    "priorities": t.priorities or None,
                    "kinds": t.kinds or None,
                    "warn_percent": t.warn_percent,
                    "breach_raise_priority": t.breach_raise_priority,
                }.items()
                if value is not None
            }
            for t in (policy.targets.select_related("calendar") if policy else [])
        ],
        "improvement_goals": [
            {
                "kpi": g.kpi,
                "baseline": g.baseline,
                "target": g.target,
                "due": g.due,
                "actions": g.actions,
            }
            for g in contract.goals.all()
        ],
    }
    survey = survey_rule_dump(contract)
    if survey is not None:
        doc["survey"] = survey
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def doc_field_check(model: type[BaseModel], name: str, value: Any) -> Any:
    """``value`` checked as the YAML loader checks field ``name`` of ``model`` (the admin's
    forms use it, so both accept the same values); a Django ValidationError in the loader's
    words otherwise."""
    info = model.model_fields[name]
    # The field's type with its constraints (min_length, validators), built at run time.
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]
    try:
        return adapter.validate_python(value)
    except PydanticError as exc:
        raise ValidationError(
            [
                f"{'.'.join(str(p) for p in error['loc']) or name}: {error['msg']}"
                for error in exc.errors()
            ]
        ) from exc

"""The ``survey:`` section of a contract document (``kefu contract load``): which channels
get a survey, when, in what words, what counts as a low score, and the weekly phone
callback sample. Validated here, stored as the contract's :class:`SurveyRule`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kefu.contracts.models import Contract
from kefu.surveys.models import SurveyRule

SurveyChannel = Literal["email", "chat", "phone", "wechat", "portal"]
Kind = Literal["inquiry", "request", "fault", "complaint", "suggestion"]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Wording(_Doc):
    title: str = Field(..., min_length=1, max_length=200)
    question: str = Field(..., min_length=1, max_length=2000)


class SampleDoc(_Doc):
    """Each week, per channel: ``count`` tickets or ``percent`` % of the week's resolved
    tickets (rounded up), at least ``minimum`` (never more than there are)."""

    channels: list[SurveyChannel] = []
    count: int | None = Field(None, ge=0)
    percent: float | None = Field(None, ge=0, le=100)
    minimum: int = Field(0, ge=0)
    exclude_answered: bool = True
    exclude_kinds: list[Kind] = []
    due_minutes: int = Field(2400, ge=1)

    @model_validator(mode="after")
    def one_size(self) -> SampleDoc:
        if (self.count is None) == (self.percent is None):
            raise ValueError("give exactly one of count or percent")
        return self


class SurveyDoc(_Doc):
    channels: list[SurveyChannel] = ["email", "portal", "chat", "phone"]
    delay_minutes: int = Field(60, ge=0)
    link_days: int = Field(14, ge=1, le=365)
    zh: Wording | None = None
    en: Wording | None = None
    low_score_max: int = Field(2, ge=1, le=4)
    callback_due_minutes: int = Field(480, ge=1)
    sample: SampleDoc | None = None


def survey_rule_apply(*, contract: Contract, doc: SurveyDoc | None) -> SurveyRule | None:
    """Create or update the contract's rule from its document; a document without a
    ``survey:`` section leaves the rule as the admin set it. Call inside the loading
    transaction."""
    if doc is None:
        return None
    sample = doc.sample
    defaults: dict[str, Any] = {
        "client_id": contract.client_id,
        "channels": list(doc.channels),
        "delay_minutes": doc.delay_minutes,
        "link_days": doc.link_days,
        "low_score_max": doc.low_score_max,
        "callback_due_minutes": doc.callback_due_minutes,
        "sample_channels": list(sample.channels) if sample else [],
        "sample_count": sample.count if sample else None,
        "sample_percent": sample.percent if sample else None,
        "sample_minimum": sample.minimum if sample else 0,
        "sample_exclude_answered": sample.exclude_answered if sample else True,
        "sample_exclude_kinds": list(sample.exclude_kinds) if sample else [],
        "sample_due_minutes": sample.due_minutes if sample else 2400,
    }
    if doc.zh is not None:
        defaults.update(title_zh=doc.zh.title, question_zh=doc.zh.question)
    if doc.en is not None:
        defaults.update(title_en=doc.en.title, question_en=doc.en.question)
    rule, _created = SurveyRule.objects.update_or_create(contract=contract, defaults=defaults)
    return rule


def survey_rule_dump(contract: Contract) -> dict[str, Any] | None:
    """The rule as the ``survey:`` section that :func:`survey_rule_apply` reads back."""
    rule = SurveyRule.objects.filter(contract=contract).first()
    if rule is None:
        return None
    doc: dict[str, Any] = {
        "channels": list(rule.channels),
        "delay_minutes": rule.delay_minutes,
        "link_days": rule.link_days,
        "zh": {"title": rule.title_zh, "question": rule.question_zh},
        "en": {"title": rule.title_en, "question": rule.question_en},
        "low_score_max": rule.low_score_max,
        "callback_due_minutes": rule.callback_due_minutes,
    }
    if rule.sample_count is not None or rule.sample_percent is not None:
        sample: dict[str, Any] = {"channels": list(rule.sample_channels)}
        if rule.sample_count is not None:
            sample["count"] = rule.sample_count
        else:
            sample["percent"] = rule.sample_percent
        sample.update(
            minimum=rule.sample_minimum,
            exclude_answered=rule.sample_exclude_answered,
            exclude_kinds=list(rule.sample_exclude_kinds),
            due_minutes=rule.sample_due_minutes,
        )
        doc["sample"] = sample
    return doc

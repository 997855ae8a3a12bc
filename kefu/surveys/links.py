"""The answer link of a survey: ``/s/<token>/``, the token the survey's id signed with
kefu's secret (django.core.signing, its own salt). The signature makes a link impossible to
guess or alter; whether it is still valid (sent, unanswered, not expired) is the survey
row's business, so a link can be shown again (the portal) without storing it."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "kefu.surveys.link"


class SurveyLinkInvalid(Exception):
    """The token was altered, truncated or made up."""


def survey_token(survey_id: int) -> str:
    """Always the same token for one survey (no timestamp inside: expiry is the row's)."""
    return signing.Signer(salt=_SALT).sign(str(survey_id))


def survey_token_read(token: str) -> int:
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise SurveyLinkInvalid from exc
    if not value.isdigit():
        raise SurveyLinkInvalid
    return int(value)


def survey_path(survey_id: int) -> str:
    return reverse("survey_answer", kwargs={"token": survey_token(survey_id)})


def survey_url(survey_id: int) -> str:
    """The absolute link a customer gets (``KEFU_BASE_URL`` + path)."""
    return f"{settings.KEFU_BASE_URL}{survey_path(survey_id)}"

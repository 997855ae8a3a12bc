"""A survey link answers once, without a login; a replay, an altered link or an expired
one is refused clearly and writes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client as HttpClient
from django.utils import timezone

from kefu.conftest import Tenant
from kefu.surveys.links import survey_path
from kefu.surveys.models import CallbackTask, Survey, SurveyRule
from kefu.surveys.services import survey_dispatch_due
from kefu.surveys.tests.conftest import resolved_ticket


def _sent_survey(t: Tenant) -> Survey:
    ticket = resolved_ticket(t)
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    return Survey.objects.get(ticket=ticket)


def test_answered_once_then_refused(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _sent_survey(tenant_a)
    path = survey_path(survey.pk)
    web = HttpClient()
    page = web.get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert "甲方A" in text and "甲方A满意度调查" in text and "ACME satisfaction survey" in text
    done = web.post(path, {"score": "4", "comment": "师傅很专业"})
    assert done.status_code == 200 and "感谢" in done.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "师傅很专业")
    again = HttpClient().post(path, {"score": "1", "comment": "改主意了"})
    assert again.status_code == 409
    assert "already been answered" in again.content.decode()
    assert "已完成评价" in again.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "师傅很专业")
    assert HttpClient().get(path).status_code == 409


def test_altered_link_is_refused(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _sent_survey(tenant_a)
    path = survey_path(survey.pk)
    token = path.split("/")[2]
    other = Survey.objects.create(client=tenant_a.client, channel="email", sent_at=timezone.now())
    forged = f"/s/{other.pk}:{token.split(':', 1)[1]}/"
    for bad in (forged, path[:-6] + "/", "/s/12345/"):
        answer = HttpClient().post(bad, {"score": "5"})
        assert answer.status_code == 400, bad
        assert "链接无效" in answer.content.decode()
    assert not Survey.objects.filter(answered_at__isnull=False).exists()
    # kefu's own signature on a survey that was never sent: no such survey either.
    queued = Survey.objects.create(client=tenant_a.client, channel="email", status="queued")
    answer = HttpClient().post(survey_path(queued.pk), {"score": "5"})
    assert answer.status_code == 404 and "链接无效" in answer.content.decode()


def test_expired_link_is_refused(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _sent_survey(tenant_a)
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = HttpClient().post(survey_path(survey.pk), {"score": "5"})
    assert answer.status_code == 410 and "已过期" in answer.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_bad_score_writes_nothing(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _sent_survey(tenant_a)
    for score in ("0", "6", "abc", ""):
        answer = HttpClient().post(survey_path(survey.pk), {"score": score, "comment": "x"})
        assert answer.status_code == 400
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.comment == ""
    assert not CallbackTask.objects.exists()


def test_the_page_fits_a_phone(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _sent_survey(tenant_a)
    text = HttpClient().get(survey_path(survey.pk)).content.decode()
    assert 'name="viewport" content="width=device-width' in text
    assert text.count('type="radio" name="score"') == 5

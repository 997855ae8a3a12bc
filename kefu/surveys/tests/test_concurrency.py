"""Dispatchers and customers racing (PostgreSQL, several connections at once): one survey
per ticket, one answer per survey."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from kefu.conftest import Tenant
from kefu.surveys.models import Survey, SurveyRule
from kefu.surveys.services import SurveyAnswerRefused, survey_answer, survey_dispatch_due
from kefu.surveys.tests.conftest import resolved_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(work: Callable[[int], object], n: int) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(k: int) -> None:
        try:
            barrier.wait()
            results.append(work(k))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent connections (CI runs it)")


def test_racing_dispatchers_make_one_survey_per_ticket(tenant_a: Tenant, rule: SurveyRule) -> None:
    _postgres()
    tickets = [resolved_ticket(tenant_a) for _ in range(5)]
    later = timezone.now() + timedelta(minutes=61)
    created, errors = _at_once(lambda k: survey_dispatch_due(now=later), 4)
    assert errors == []
    assert sum(created) == 5  # type: ignore[arg-type]
    for ticket in tickets:
        assert Survey.objects.filter(ticket=ticket).count() == 1


def test_racing_answers_take_one(tenant_a: Tenant, rule: SurveyRule) -> None:
    _postgres()
    ticket = resolved_ticket(tenant_a)
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    survey = Survey.objects.get(ticket=ticket)

    def answer(k: int) -> str:
        try:
            survey_answer(survey_id=survey.pk, score=k + 1, comment=f"answer {k}")
        except SurveyAnswerRefused as exc:
            return exc.reason
        return "taken"

    results, errors = _at_once(answer, 5)
    assert errors == []
    assert sorted(results) == ["answered"] * 4 + ["taken"]  # type: ignore[type-var]
    survey.refresh_from_db()
    assert survey.comment == f"answer {survey.score - 1}"  # type: ignore[operator]

"""A survey link from the mail kefu sent (read from the mail outbox the demo uses), in a
real browser at a phone's width: answered once; a second answer, from a page opened before
the first was sent and from the link opened again, is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import ViewportSize, expect

from kefu.conftest import Tenant
from kefu.core.tests import test_browser
from kefu.surveys.models import CallbackTask, Survey, SurveyRule
from kefu.surveys.services import survey_dispatch_due
from kefu.surveys.tests.conftest import resolved_ticket

pytestmark = test_browser.pytestmark
browser = test_browser.browser
kefu_server = test_browser.kefu_server

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    yield context.new_page()
    context.close()


def _survey_link() -> str:
    for path in Path(settings.KEFU_MAIL_OUTBOX).glob("*.eml"):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if "满意度" in str(mail["Subject"]):
            assert isinstance(mail, EmailMessage)
            found = re.search(r"https?://\S+/s/\S+/", mail.get_content())
            assert found is not None
            return found.group(0)
    raise AssertionError("no survey mail in the outbox")


def test_a_link_from_the_mail_answers_once(
    tenant_a: Tenant, rule: SurveyRule, kefu_server: str, page: Any, browser: Any, settings: Any
) -> None:
    settings.KEFU_BASE_URL = kefu_server
    ticket = resolved_ticket(tenant_a)
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    link = _survey_link()
    assert link.startswith(kefu_server)

    # A second tab opened on the same link before the first answer is sent.
    other = browser.new_context(viewport=PHONE).new_page()
    other.goto(link)

    page.goto(link)
    expect(page.locator("#survey")).to_contain_text("甲方A满意度调查")
    expect(page.locator("#survey")).to_contain_text(ticket.number)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at 390 px ({width})"
    page.locator('input[data-score="2"]').check()
    page.fill("#comment", "等了三天才有人回复")
    page.click("#survey-form button[type=submit]")
    expect(page.locator("#survey-thanks")).to_contain_text("感谢您的评价")

    survey = Survey.objects.get(ticket=ticket)
    assert (survey.score, survey.comment) == (2, "等了三天才有人回复")
    assert CallbackTask.objects.filter(survey=survey).count() == 1  # a low score

    other.locator('input[data-score="5"]').check()
    other.click("#survey-form button[type=submit]")
    expect(other.locator("#survey-refused")).to_contain_text("already been answered")
    other.context.close()

    page.goto(link)
    expect(page.locator("#survey-refused")).to_contain_text("您已完成评价")
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (2, "等了三天才有人回复")

    page.goto(link.replace("/s/", "/s/9"))
    expect(page.locator("#survey-refused")).to_contain_text("链接无效")

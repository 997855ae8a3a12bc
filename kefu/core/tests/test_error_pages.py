"""Error pages speak kefu's language in kefu's layout: a user who follows a dead link, is
refused, submits an expired form or meets a server error sees what happened and a way
back, never Django's bare English page or a traceback."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from openapi_spec_validator import validate

from kefu.conftest import Tenant, login

pytestmark = pytest.mark.django_db


def test_unknown_address_shows_kefus_404_with_navigation(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    response = http.get("/tickets/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在 / Page not found" in page
    assert 'class="topbar"' in page and "/tickets/" in page  # the menu is there to go on
    assert "Not Found</h1>" not in page


def test_another_clients_ticket_is_the_same_404(tenant_a: Tenant, tenant_b: Tenant) -> None:
    http = login(tenant_a.agent)
    response = http.get(f"/tickets/{tenant_b.ticket.pk}/")
    assert response.status_code == 404
    assert "页面不存在 / Page not found" in response.content.decode()


def test_refused_role_sees_kefus_403(tenant_a: Tenant) -> None:
    http = login(tenant_a.department_user)
    response = http.get("/reports/")
    assert response.status_code == 403
    assert "无权访问 / Not allowed" in response.content.decode()


def test_expired_form_says_so_in_chinese_and_english(tenant_a: Tenant) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(tenant_a.agent)
    response = http.post(f"/tickets/{tenant_a.ticket.pk}/reply/", {"body": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期 / The page has expired" in page
    assert "CSRF verification failed" not in page


@override_settings(ROOT_URLCONF="kefu.core.tests.error_urls", DEBUG=False)
def test_server_error_page_hides_the_failure(tenant_a: Tenant) -> None:
    http = HttpClient(raise_request_exception=False)
    response = http.get("/__fails__/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错 / Server error" in page
    assert "must not show" not in page and "Traceback" not in page


def test_openapi_document_is_valid_and_has_no_repeated_keys(db: None) -> None:
    """The docs page parses the document itself: a key given twice (two "200" responses)
    made it refuse the whole document."""
    raw = HttpClient().get("/api/v1/openapi.json").content.decode()

    def no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"repeated keys: {keys}"
        return dict(pairs)

    document = json.loads(raw, object_pairs_hook=no_repeats)
    validate(document)


def test_a_portal_404_is_neutral_and_leads_back_to_the_portal(tenant_a: Tenant) -> None:
    """A customer never sees kefu's staff menu; the page names no ticket and links home."""
    first = HttpClient().get("/p/ACME/no-such-page/")
    second = HttpClient().get("/p/ACME/also-missing/")
    page = first.content.decode()
    assert first.status_code == 404
    assert 'href="/p/ACME/"' in page and 'class="topbar"' not in page
    assert first.content == second.content

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from kefu.conftest import Tenant, login


@pytest.mark.django_db
def test_pages_send_a_strict_policy_and_have_no_inline_script() -> None:
    r = HttpClient().get("/login/")
    csp = r["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"
    html = r.content.decode()
    inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s]
    assert inline == []


def test_workspace_pages_reference_only_local_assets(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    for url in ("/tickets/", f"/tickets/{tenant_a.ticket.pk}/", "/api/v1/docs"):
        html = http.get(url).content.decode()
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not ref.startswith(("http://", "https://", "//")), (url, ref)

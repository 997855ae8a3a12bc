"""The supervisor's widgets page: the embed line of each widget of their clients, and a
sample page of kefu's own to try a widget whose origins include kefu's address."""

from __future__ import annotations

from kefu.chat.services import widget_create
from kefu.conftest import Tenant, login


def test_supervisor_sees_embed_lines_of_own_clients_and_can_try_one(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine = widget_create(
        client=tenant_a.client, origins=["http://testserver", "https://www.a.example"]
    )
    elsewhere = widget_create(client=tenant_a.client, origins=["https://www.a.example"])
    theirs = widget_create(client=tenant_b.client, origins=["http://testserver"])
    page = login(tenant_a.supervisor).get("/chat/widgets/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f"data-key=&quot;{mine.key}&quot;" in text  # the embed line, shown as text
    assert f"data-key=&quot;{elsewhere.key}&quot;" in text
    assert theirs.key not in text
    assert f"/chat/widgets/{mine.pk}/try/" in text
    assert f"/chat/widgets/{elsewhere.pk}/try/" not in text  # kefu is not among its origins

    sample = login(tenant_a.supervisor).get(f"/chat/widgets/{mine.pk}/try/")
    assert sample.status_code == 200
    assert f'<script src="/chat/widget.js" data-key="{mine.key}" async></script>' in (
        sample.content.decode()
    )
    assert login(tenant_a.supervisor).get(f"/chat/widgets/{theirs.pk}/try/").status_code == 404


def test_agents_and_client_users_are_refused(tenant_a: Tenant) -> None:
    for user in (tenant_a.agent, tenant_a.auditor):
        assert login(user).get("/chat/widgets/").status_code == 403

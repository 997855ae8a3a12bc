"""Queue views: built-in and saved filters with counts, totals, and search by part of a
ticket number or by what was said in the conversation."""

from __future__ import annotations

import re

from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from kefu.conftest import Tenant, login
from kefu.tickets import queue_views, services
from kefu.tickets.models import SavedView, Ticket


def _count(page: str, key: str) -> int:
    found = re.search(rf'data-count="{key}">(\d+)<', page)
    assert found, key
    return int(found.group(1))


def _new(t: Tenant, subject: str) -> Ticket:
    return services.ticket_create(client=t.client, subject=subject, body="x", channel="email")


def test_built_in_views_count_what_they_show(tenant_a: Tenant, tenant_b: Tenant) -> None:
    http = login(tenant_a.agent)
    page = http.get("/tickets/").content.decode()
    mine, unassigned = _count(page, "mine"), _count(page, "unassigned")
    _new(tenant_a, "新来的")
    _new(tenant_b, "别家的")  # another client's ticket counts nowhere
    t = _new(tenant_a, "分给我的")
    services.ticket_assign(ticket=t, actor=tenant_a.supervisor, assignee=tenant_a.agent)
    page = http.get("/tickets/").content.decode()
    assert _count(page, "unassigned") == unassigned + 1
    assert _count(page, "mine") == mine + 1
    listed = http.get("/tickets/?assignee=none&status=active").content.decode()
    assert "新来的" in listed and "别家的" not in listed and "分给我的" not in listed
    assert 'aria-current="true"' in listed  # the matching view is marked
    total = re.search(r"共 (\d+) 条", listed)
    assert total and int(total.group(1)) == unassigned + 1


def test_part_of_a_number_and_words_of_a_message_find_the_ticket(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    ticket = tenant_a.ticket
    digits = ticket.number.rsplit("-", 1)[1]  # "000001" of "KF-2026-000001"
    page = http.get("/tickets/", {"q": digits, "status": ""}).content.decode()
    assert ticket.number in page
    # "压缩机" is in an internal note only, not the subject.
    page = http.get("/tickets/", {"q": "压缩机", "status": ""}).content.decode()
    assert ticket.number in page
    page = http.get("/tickets/", {"q": "洗衣机", "status": ""}).content.decode()
    assert ticket.number not in page


def test_saved_views_are_personal_or_shared(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    r = http.post(
        "/tickets/views/",
        {"name": "我的投诉", "query": "kind=complaint&status=active&page=3&x=1", "shared": ""},
    )
    assert r.status_code == 302
    view = SavedView.objects.get(owner=tenant_a.agent)
    assert view.query == "status=active&kind=complaint"  # only the queue's own filters
    assert "我的投诉" in http.get("/tickets/").content.decode()
    supervisor = login(tenant_a.supervisor)
    assert "我的投诉" not in supervisor.get("/tickets/").content.decode()
    queue_views.saved_view_create(
        user=tenant_a.supervisor, name="全组紧急", query=QueryDict("priority=urgent"), shared=True
    )
    assert "全组紧急" in http.get("/tickets/").content.decode()
    # Only the owner deletes a view; another user's attempt is a 404.
    shared = SavedView.objects.get(name="全组紧急")
    assert http.post(f"/tickets/views/{shared.pk}/delete/").status_code == 404
    assert http.post(f"/tickets/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()
    again = http.post("/tickets/views/", {"name": "全组紧急", "query": ""})
    assert again.status_code == 302  # the same name as someone else's view is fine


def test_queue_queries_do_not_grow_with_views(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get("/tickets/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(8):
        queue_views.saved_view_create(
            user=tenant_a.agent,
            name=f"视图{i}",
            query=QueryDict(f"priority=high&q={i}"),
            shared=False,
        )
    assert queries() == few

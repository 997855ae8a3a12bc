"""The demo data set, walked as each of its roles: no customer's phone number, ID or card
number and no e-mail address from the demo appears unmasked in any page or API response.

The demo is built as ``kefu demo`` builds it (smaller); the raw values are collected from
the database itself (decrypted customer fields, and every number the detector finds in
message bodies), so the check grows with the demo's vocabulary."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.services import api_token_create
from kefu.conftest import login
from kefu.core.tests.test_tenant_isolation import _fill, all_routes
from kefu.privacy import pii
from kefu.privacy.tests.test_no_pii_leaks import _body
from kefu.reports.services import report_issue
from kefu.tickets.models import Customer, Escalation, Message, Ticket

# One user of each role in the demo; the department user sees 华信's escalations.
DEMO_USERS = ("admin", "zhuguan1", "kefu01", "huaxin_audit", "huaxin_tech")


def _raw_values() -> set[str]:
    raw: set[str] = set()
    for customer in Customer.objects.all():
        raw.update(str(p) for p in customer.phones)
        raw.update(str(e) for e in customer.emails)
    for text in Message.objects.values_list("body_text", flat=True):
        raw.update(m.value for m in pii.find(text) if m.kind != "email" or "@" in m.value)
    return {value for value in raw if len(value) >= 7}


def _objects() -> dict[str, object]:
    escalation = Escalation.objects.filter(client__code="HUAXIN", status="open").first()
    assert escalation is not None
    ticket = escalation.ticket
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    report = report_issue(client=ticket.client, month_label=month, actor=None)
    objects: dict[str, object] = defaultdict(lambda: 0)
    objects.update(
        ticket=ticket.pk,
        customer=ticket.customer_id,
        message=ticket.messages.values_list("pk", flat=True)[0],
        escalation=escalation.pk,
        client_code="HUAXIN",
        month=month,
        file_kind="xlsx",
        report=report.pk,
    )
    return objects


@pytest.mark.django_db
def test_demo_personal_data_is_masked_for_every_role() -> None:
    call_command("demo", "--tickets", "200", stdout=io.StringIO())
    raw = _raw_values()
    assert len(raw) > 50  # the demo's customers do have phones and addresses
    objects = _objects()
    for username in DEMO_USERS:
        user = User.objects.get(username=username)
        objects["token"] = api_token_create(user=user, name="walk")[0].pk
        http = login(user)
        seen = 0
        for route, name in all_routes():
            if route.endswith("logout/"):
                continue
            r = http.get(_fill(route, name, objects))
            if r.status_code != 200:
                continue
            seen += 1
            body = _body(r)
            leaked = sorted(value for value in raw if value in body)
            assert leaked == [], f"{username} saw raw personal data at {route}: {leaked[:3]}"
        assert seen >= 3, f"{username} reached almost nothing"
    # The ticket page did show the customer, masked.
    page = login(User.objects.get(username="kefu01")).get(f"/tickets/{objects['ticket']}/")
    ticket = Ticket.objects.get(pk=str(objects["ticket"]))
    assert ticket.customer is not None and ticket.customer.phones
    assert pii.mask_phone(str(ticket.customer.phones[0])) in page.content.decode()

"""The SMS and portal parts of a customer's personal data: exported with the customer's
data, and removed when the customer is anonymised (the rows stay, without the number)."""

from __future__ import annotations

import io
import json
import zipfile

from django.test import Client as HttpClient

from kefu.accounts.models import User
from kefu.conftest import Tenant
from kefu.portal.models import PortalSite, SignInChallenge
from kefu.portal.tests.conftest import sign_in
from kefu.privacy.services import customer_anonymise, customer_export
from kefu.sms.models import SmsMessage


def test_sign_in_traces_are_exported_and_anonymised(
    tenant_a: Tenant, site_a: PortalSite, admin_user: User
) -> None:
    sign_in(HttpClient(), site_a)
    archive = zipfile.ZipFile(
        io.BytesIO(customer_export(actor=admin_user, customer=tenant_a.customer))
    )
    data = json.loads(archive.read("customer.json"))
    assert [m["to"] for m in data["sms"]] == ["13800138000"]
    counts = customer_anonymise(actor=admin_user, customer=tenant_a.customer, reason="本人申请")
    assert counts["sms"] == 1 and counts["portal_signin"] == 1
    sms = SmsMessage.objects.get()
    assert sms.to == "" and sms.params == {} and sms.to_key == "" and sms.status == "sent"
    challenge = SignInChallenge.objects.get()
    assert challenge.value == "" and challenge.key == "" and challenge.used_at is not None

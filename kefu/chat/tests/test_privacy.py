"""The chat's part of a data-subject request: the consent given is exported, the page a
chat came from is cleared on anonymisation, the consent record stays."""

from __future__ import annotations

import io
import json
import zipfile

from kefu.accounts.models import User
from kefu.chat.models import Conversation
from kefu.chat.services import conversation_customer_message, conversation_start, widget_create
from kefu.conftest import Tenant
from kefu.privacy.services import customer_anonymise, customer_export


def test_export_shows_the_consent_and_anonymising_clears_the_page(
    tenant_a: Tenant, admin_user: User
) -> None:
    widget = widget_create(client=tenant_a.client, origins=["https://shop.example"])
    started = conversation_start(
        widget=widget,
        name="钱女士",
        phone="13600136000",
        consent=True,
        notice_version=widget.notice_version,
        page_url="https://shop.example/orders/8812?phone=13600136000",
    )
    chat = Conversation.objects.get(pk=started.conversation.pk)
    conversation_customer_message(conversation=chat, cid="p1", text="订单8812什么时候到")
    assert chat.customer is not None

    archive = zipfile.ZipFile(io.BytesIO(customer_export(actor=admin_user, customer=chat.customer)))
    data = json.loads(archive.read("customer.json"))
    [exported] = data["chats"]
    assert exported["privacy_notice_version"] == widget.notice_version
    assert exported["privacy_notice_accepted_at"] is not None
    assert exported["page"].startswith("https://shop.example/orders/8812")

    counts = customer_anonymise(actor=admin_user, customer=chat.customer, reason="客户要求删除")
    chat.refresh_from_db()
    assert chat.page_url == "" and chat.consent_at is not None
    assert counts["chat"] == 1

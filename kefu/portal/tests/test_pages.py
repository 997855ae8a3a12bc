"""The portal's pages for a signed-in customer: only their own tickets (any channel), the
public conversation without notes or hidden agents' names, new requests (urgent, files),
replies, closing, the language, and a client's own host name."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from kefu.conftest import Tenant
from kefu.portal.models import PortalSite
from kefu.portal.selectors import site_hosts_forget
from kefu.portal.tests.conftest import sign_in
from kefu.sla.models import Metric
from kefu.tickets import services
from kefu.tickets.models import Attachment, Direction, Message, Priority, Status, Ticket

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _signed_in(site: PortalSite, phone: str = "13800138000") -> HttpClient:
    http = HttpClient()
    sign_in(http, site, phone)
    return http


def _other_customer_ticket(tenant: Tenant) -> Ticket:
    other = services.customer_create(
        client=tenant.client, data=services.CustomerData(name="赵六", phone="13655556666")
    )
    ticket = services.ticket_create(
        client=tenant.client,
        subject="别人的问题",
        body="别人的秘密",
        channel="portal",
        customer=other,
    )
    services.ticket_add_customer_message(
        ticket=ticket, body="附件", attachments=[SimpleUploadedFile("a.png", PNG)]
    )
    return ticket


def test_another_customers_ticket_is_the_same_404_as_none(
    tenant_a: Tenant, tenant_b: Tenant, site_a: PortalSite, site_b: PortalSite
) -> None:
    theirs = _other_customer_ticket(tenant_a)
    http = _signed_in(site_a)
    own = http.get(f"/p/ACME/tickets/{tenant_a.ticket.number}/")
    assert own.status_code == 200
    missing = http.get("/p/ACME/tickets/ACME-NOPE-0000/")
    other = http.get(f"/p/ACME/tickets/{theirs.number}/")
    b_only = [
        services.ticket_create(
            client=tenant_b.client,
            subject=f"乙方工单{i}",
            body="x",
            channel="portal",
            customer=tenant_b.customer,
        )
        for i in range(2)
    ][-1]
    assert not Ticket.objects.filter(client=tenant_a.client, number=b_only.number).exists()
    other_client = http.get(f"/p/ACME/tickets/{b_only.number}/")
    assert missing.status_code == other.status_code == other_client.status_code == 404
    assert other.content == missing.content
    attachment = Attachment.objects.get(ticket=theirs)
    assert http.get(f"/p/ACME/tickets/{theirs.number}/files/{attachment.pk}/").status_code == 404
    assert (
        http.get(f"/p/ACME/tickets/{tenant_a.ticket.number}/files/{attachment.pk}/").status_code
        == 404
    )
    before = Message.objects.filter(ticket=theirs).count()
    assert http.post(f"/p/ACME/tickets/{theirs.number}/", {"body": "插一句"}).status_code == 404
    assert http.post(f"/p/ACME/tickets/{theirs.number}/close/").status_code == 404
    assert Message.objects.filter(ticket=theirs).count() == before
    theirs.refresh_from_db()
    assert theirs.status != Status.CLOSED
    listing = http.get("/p/ACME/tickets/").content.decode()
    assert theirs.number not in listing and "别人的问题" not in listing
    # Signed in to client A's portal is not signed in to client B's.
    assert http.get("/p/BETA/tickets/").status_code == 302


def test_conversation_hides_notes_and_agent_names(tenant_a: Tenant, site_a: PortalSite) -> None:
    tenant_a.agent.display_name = "张伟明"
    tenant_a.agent.save()
    services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.agent, body="已安排工程师。")
    http = _signed_in(site_a)
    page = http.get(f"/p/ACME/tickets/{tenant_a.ticket.number}/").content.decode()
    assert "已安排工程师。" in page and "家里的空调从昨天开始不制冷了" in page
    assert "可能是压缩机故障" not in page  # an internal note
    assert "张伟明" not in page and "客服 / Service agent" in page
    site_a.hide_agent_names = False
    site_a.save()
    page = http.get(f"/p/ACME/tickets/{tenant_a.ticket.number}/").content.decode()
    assert "张伟明" in page and "可能是压缩机故障" not in page


def test_urgent_request_with_a_file_starts_the_urgent_targets(
    sla_tenant: Tenant, site_a: PortalSite
) -> None:
    http = _signed_in(site_a)
    form = http.get("/p/ACME/tickets/new/").content.decode()
    assert "kb_suggest" not in form  # an empty include point, not text
    answer = http.post(
        "/p/ACME/tickets/new/",
        {
            "kind": "fault",
            "description": "宽带断网\n从早上开始完全无法上网。",
            "urgent": "on",
            "urgent_reason": "明天要远程面试",
            "submission": "s-1",
            "attachments": [SimpleUploadedFile("光猫.png", PNG, content_type="image/png")],
        },
    )
    assert answer.status_code == 302
    ticket = Ticket.objects.get(channel="portal", client=sla_tenant.client)
    assert answer["Location"] == f"/p/ACME/tickets/{ticket.number}/"
    assert ticket.priority == Priority.URGENT and ticket.kind == "fault"
    assert ticket.customer == sla_tenant.customer and ticket.subject == "宽带断网"
    assert list(ticket.tags.values_list("name", flat=True)) == ["紧急"]
    first = ticket.messages.get()
    assert first.body_text.startswith("【紧急 / Urgent】明天要远程面试")
    assert first.attachments.get().content_type == "image/png"
    clock = ticket.clocks.get(metric=Metric.FIRST_RESPONSE)
    assert clock.goal_seconds == 120 * 60  # the urgent target, on the 7×24 calendar
    page = http.get(answer["Location"]).content.decode()
    assert "紧急 / Urgent" in page and "光猫.png" in page
    # The same form sent again (a double click) makes no second ticket.
    again = http.post(
        "/p/ACME/tickets/new/",
        {
            "kind": "fault",
            "description": "宽带断网",
            "urgent": "on",
            "urgent_reason": "x",
            "submission": "s-1",
        },
    )
    assert again.status_code == 302
    assert Ticket.objects.filter(channel="portal").count() == 1


def test_a_normal_request_has_no_urgent_clock(sla_tenant: Tenant, site_a: PortalSite) -> None:
    http = _signed_in(site_a)
    http.post("/p/ACME/tickets/new/", {"kind": "inquiry", "description": "咨询套餐"})
    ticket = Ticket.objects.get(channel="portal")
    assert ticket.priority == Priority.NORMAL
    assert not ticket.clocks.filter(metric=Metric.FIRST_RESPONSE).exists()


def test_refused_requests_leave_nothing(
    tenant_a: Tenant, site_a: PortalSite, settings: object
) -> None:
    http = _signed_in(site_a)
    no_reason = http.post(
        "/p/ACME/tickets/new/", {"kind": "fault", "description": "断网", "urgent": "on"}
    )
    assert no_reason.status_code == 400 and "标记为紧急时请说明原因" in no_reason.content.decode()
    hostile = http.post(
        "/p/ACME/tickets/new/",
        {
            "kind": "fault",
            "description": "看附件",
            "attachments": [
                SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>")
            ],
        },
    )
    assert hostile.status_code == 400
    assert "不允许上传网页" in hostile.content.decode()
    assert "看附件" in hostile.content.decode()  # what the customer typed is kept
    settings.KEFU_MAX_ATTACHMENT_BYTES = 20  # type: ignore[attr-defined]
    huge = http.post(
        "/p/ACME/tickets/new/",
        {
            "kind": "fault",
            "description": "大文件",
            "attachments": [SimpleUploadedFile("a.png", PNG)],
        },
    )
    assert huge.status_code == 400 and "附件过大" in huge.content.decode()
    assert not Ticket.objects.filter(channel="portal").exists()
    assert not Attachment.objects.filter(ticket__channel="portal").exists()


def test_reply_reopens_and_close_ends(tenant_a: Tenant, site_a: PortalSite) -> None:
    ticket = tenant_a.ticket
    services.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.RESOLVED)
    http = _signed_in(site_a)
    page = http.get(f"/p/ACME/tickets/{ticket.number}/").content.decode()
    assert 'id="rate-slot"' in page and "评价 / Rate" in page
    answer = http.post(f"/p/ACME/tickets/{ticket.number}/", {"body": "还是不制冷"})
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.messages.filter(direction=Direction.INBOUND).last().body_text == "还是不制冷"  # type: ignore[union-attr]
    assert http.post(f"/p/ACME/tickets/{ticket.number}/close/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    page = http.get(f"/p/ACME/tickets/{ticket.number}/").content.decode()
    assert 'id="reply-form"' not in page and 'id="closed-note"' in page
    refused = http.post(f"/p/ACME/tickets/{ticket.number}/", {"body": "再说一句"})
    assert refused.status_code == 400 and "工单已关闭" in refused.content.decode()


def test_language_switch_and_client_colours(tenant_a: Tenant, site_a: PortalSite) -> None:
    site_a.primary_color = "#0a7d3b"
    site_a.save()
    http = HttpClient()
    page = http.get("/p/ACME/login/").content.decode()
    assert '<html lang="zh-hans">' in page and "甲方A服务中心" in page and "#0a7d3b" in page
    http.post("/p/ACME/lang/", {"language": "en", "next": "/p/ACME/login/"})
    page = http.get("/p/ACME/login/").content.decode()
    assert '<html lang="en">' in page and "ACME Service" in page


def test_disabled_or_unknown_portal_is_404(tenant_a: Tenant, site_a: PortalSite) -> None:
    assert HttpClient().get("/p/NOPE/login/").status_code == 404
    site_a.enabled = False
    site_a.save()
    assert HttpClient().get("/p/ACME/login/").status_code == 404


def test_own_host_name_serves_only_that_portal(
    tenant_a: Tenant, tenant_b: Tenant, site_a: PortalSite, site_b: PortalSite, settings: object
) -> None:
    site_a.host = "help.acme.example"
    site_a.save()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "help.acme.example"]  # type: ignore[attr-defined]
    site_hosts_forget()
    http = HttpClient(HTTP_HOST="help.acme.example")
    root = http.get("/")
    assert root.status_code == 302 and root["Location"] == "/p/ACME/"
    assert http.get("/p/ACME/login/").status_code == 200
    assert http.get("/p/BETA/login/").status_code == 404
    assert http.get("/tickets/").status_code == 404
    assert http.get("/admin/").status_code == 404
    site_hosts_forget()


def test_logo_is_served_only_as_a_picture(tenant_a: Tenant, site_a: PortalSite) -> None:
    from django.core.files.base import ContentFile

    site_a.logo.save("logo.png", ContentFile(PNG))
    http = HttpClient()
    assert 'class="portal-logo"' in http.get("/p/ACME/login/").content.decode()
    logo = http.get("/p/ACME/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    site_a.logo.save("logo.png", ContentFile(b"<svg onload='alert(1)'></svg>"))
    assert http.get("/p/ACME/logo").status_code == 404


def test_list_and_conversation_cost_the_same_queries_however_long(
    tenant_a: Tenant, site_a: PortalSite
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = _signed_in(site_a)
    ticket = tenant_a.ticket

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        return len(queries)

    few_list, few_page = cost("/p/ACME/tickets/"), cost(f"/p/ACME/tickets/{ticket.number}/")
    for i in range(15):
        services.ticket_create(
            client=tenant_a.client,
            subject=f"问题{i}",
            body="x",
            channel="portal",
            customer=tenant_a.customer,
        )
        services.ticket_add_customer_message(
            ticket=ticket, body=f"补充{i}", attachments=[SimpleUploadedFile(f"{i}.png", PNG)]
        )
        services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body=f"回复{i}")
    assert cost("/p/ACME/tickets/") == few_list
    assert cost(f"/p/ACME/tickets/{ticket.number}/") == few_page

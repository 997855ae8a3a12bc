from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.roles import Role
from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet, client_key
from kefu.privacy.fields import EncryptedJSONField, EncryptedTextField
from kefu.tickets.channels import channel_resendable

if TYPE_CHECKING:
    from kefu.accounts.models import User


class Channel(models.TextChoices):
    EMAIL = "email", _("邮件")
    CHAT = "chat", _("在线客服")
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")
    PORTAL = "portal", _("网站门户")
    API = "api", _("API")


class Kind(models.TextChoices):
    INQUIRY = "inquiry", _("咨询")
    REQUEST = "request", _("服务请求")
    FAULT = "fault", _("故障报告")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")


class Priority(models.TextChoices):
    LOW = "low", _("低")
    NORMAL = "normal", _("普通")
    HIGH = "high", _("高")
    URGENT = "urgent", _("紧急")


class Status(models.TextChoices):
    NEW = "new", _("新建")
    OPEN = "open", _("处理中")
    PENDING = "pending", _("等待客户")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


class TicketQuerySet(ClientScopedQuerySet):
    def narrow_for(self, user: User) -> Self:
        if user.role == Role.DEPARTMENT:
            return self.filter(
                id__in=Escalation.objects.filter(department_id=user.department_id or 0).values(
                    "ticket_id"
                )
            )
        return self


class CustomerQuerySet(ClientScopedQuerySet):
    def narrow_for(self, user: User) -> Self:
        if user.role == Role.DEPARTMENT:
            return self.filter(
                tickets__escalations__department_id=user.department_id or 0
            ).distinct()
        return self


class TicketChildQuerySet(ClientScopedQuerySet):
    """Rows hanging off a ticket: a department sees those of tickets escalated to it."""

    def narrow_for(self, user: User) -> Self:
        if user.role == Role.DEPARTMENT:
            return self.filter(
                ticket__in=Ticket.objects.filter(escalations__department_id=user.department_id or 0)
            )
        return self


class EscalationQuerySet(ClientScopedQuerySet):
    def narrow_for(self, user: User) -> Self:
        if user.role == Role.DEPARTMENT:
            return self.filter(department_id=user.department_id or 0)
        return self


class Customer(ClientOwned):
    """终端客户 of one client. Phones, emails and external ids are lists because customers
    write in from several addresses.

    Name, phones and emails are encrypted at rest (kefu.privacy.fields); they read and
    write as plain values. Look customers up by the blind indexes below, never by them."""

    name = EncryptedTextField(_("姓名"), max_length=200, blank=True)
    phones = EncryptedJSONField(_("电话"), default=list, blank=True)
    emails = EncryptedJSONField(_("邮箱"), default=list, blank=True)
    external_ids = models.JSONField(_("外部编号"), default=dict, blank=True)
    # Blind indexes (keyed HMAC of the normalised first phone, first email and the name:
    # kefu.privacy.fields.phone_index & co.) for exact lookups, and the source system id.
    phone_key = models.CharField(max_length=64, blank=True)
    email_key = models.CharField(max_length=64, blank=True)
    name_key = models.CharField(max_length=64, blank=True)
    external_key = models.CharField(max_length=100, blank=True)

    # What identifies the person (values and their blind indexes): cleared together when a
    # record is anonymised or merged away.
    PERSONAL_FIELDS = (
        "name",
        "phones",
        "emails",
        "external_ids",
        "phone_key",
        "email_key",
        "name_key",
        "external_key",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A customer merged into another (kefu.tickets.customers.customer_merge) stays as a
    # tombstone, so links and audit records naming it still resolve: its tickets and
    # identifiers have moved to ``merged_into``.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_key"],
                condition=~Q(external_key=""),
                name="customer_unique_external_key",
            )
        ]
        # Plain B-tree indexes for the exact blind-index lookups (db_index=True on a
        # CharField would add a second, LIKE-pattern index on PostgreSQL that no query uses).
        indexes = [
            models.Index(fields=["phone_key"], name="customer_phone_key"),
            models.Index(fields=["email_key"], name="customer_email_key"),
            models.Index(fields=["name_key"], name="customer_name_key"),
        ]
        verbose_name = _("客户")
        verbose_name_plural = _("客户")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def audit_label(self) -> str:
        """How the audit log names a customer: never by name, which is personal data."""
        return f"customer #{self.pk}"


class IdentifierKind(models.TextChoices):
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮箱")
    WECHAT_OPENID = "wechat_openid", _("微信 OpenID")
    WECHAT_UNIONID = "wechat_unionid", _("微信 UnionID")
    PORTAL = "portal", _("门户账号")
    EXTERNAL = "external", _("外部编号")


class CustomerIdentifierQuerySet(ClientScopedQuerySet):
    def narrow_for(self, user: User) -> Self:
        # A client department answers escalations; how customers are recognised is not
        # part of that.
        if user.role == Role.DEPARTMENT:
            return self.none()
        return self


class CustomerIdentifier(ClientOwned):
    """One way a customer is recognised across channels: a phone, an email address, a
    WeChat openid or unionid, a portal account or the client's own id for them.

    ``key`` is the blind index of the value (kefu.privacy.fields: ``phone_index``,
    ``wechat_openid_index`` …); ``value`` keeps the value itself, encrypted, so the index
    can be computed again under a new index key and the customer's data exported.

    Only a ``verified`` identifier finds its customer (``customer_find``): one that came
    through the transport that vouches for it (the sender of a mail, the caller of a
    call, the openid of a WeChat message, the login of the portal) or from the client's
    own system. One an agent typed is kept unverified until it is confirmed. A verified
    identifier belongs to one customer of the client (unique per client, kind and key);
    unverified claims may repeat across customers (two agents typing one number), and a
    customer holds each identifier once."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="identifiers", db_index=False
    )
    kind = models.CharField(_("类型"), max_length=16, choices=IdentifierKind.choices)
    key = models.CharField(max_length=64)
    value = EncryptedTextField(_("值"), max_length=254, blank=True)
    verified = models.BooleanField(_("已验证"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = CustomerIdentifierQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "key"],
                condition=Q(verified=True),
                name="customer_identifier_verified",
            ),
            # Also the index of a customer's identifiers (the foreign key has none).
            models.UniqueConstraint(
                fields=["customer", "kind", "key"], name="customer_identifier_once"
            ),
        ]
        # Agents' search by phone or email (verified or not, any client they serve).
        indexes = [models.Index(fields=["kind", "key"], name="customer_identifier_key")]
        verbose_name = _("客户标识")
        verbose_name_plural = _("客户标识")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Tag(ClientOwned):
    name = models.CharField(_("名称"), max_length=64)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="tag_unique")]
        verbose_name = _("分类标签")
        verbose_name_plural = _("分类标签")

    def __str__(self) -> str:
        return self.name


class TicketSequence(ClientOwned):
    """Next human number per client and year; locked row while a ticket is numbered."""

    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "year"], name="ticket_sequence_unique")
        ]


class Ticket(ClientOwned):
    client = client_key(db_index=False)  # ticket_client_id and the others start with it
    number = models.CharField(_("工单号"), max_length=32)
    subject = models.CharField(_("主题"), max_length=300)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.INQUIRY)
    priority = models.CharField(
        _("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_customer_status starts with it
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,  # ticket_assignee_status starts with it
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("坐席组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("分类"), blank=True, related_name="tickets")
    escalated = models.BooleanField(_("升级中"), default=False)
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"))
    first_resolved_at = models.DateTimeField(null=True, blank=True)
    # Earliest due instant of the ticket's running SLA clocks (kept by kefu.sla.services),
    # so the queue can sort by time left through an index.
    sla_due_at = models.DateTimeField(_("时效到期"), null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="ticket_unique_number"),
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=~Q(external_id=""),
                name="ticket_unique_external_id",
            ),
        ]
        indexes = [
            # The queue's filters, each with the id order used by keyset pagination.
            models.Index(fields=["client", "status", "-id"], name="ticket_client_status"),
            models.Index(fields=["status", "-id"], name="ticket_status"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status"),
            # A customer's open tickets, answered to every ticket the API creates: with
            # customer alone PostgreSQL may pick a plan that also reads every open ticket's
            # entry of ticket_status (it did while a table had no statistics yet).
            models.Index(fields=["customer", "status", "-id"], name="ticket_customer_status"),
            models.Index(fields=["client", "-id"], name="ticket_client_id"),
            models.Index(fields=["client", "sla_due_at", "id"], name="ticket_client_sla_due"),
            models.Index(fields=["sla_due_at", "id"], name="ticket_sla_due"),
            # A period's tickets for the KPIs: created in it, first resolved in it.
            models.Index(fields=["client", "created_at"], name="ticket_client_created"),
            models.Index(fields=["client", "first_resolved_at"], name="ticket_client_resolved"),
        ]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Direction(models.TextChoices):
    INBOUND = "in", _("客户来信")
    OUTBOUND = "out", _("回复客户")
    NOTE = "note", _("内部备注")


class Message(ClientOwned):
    client = client_key(db_constraint=False)  # the ticket's foreign key ties it to the client
    # No index of its own: message_ticket_time starts with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(_("方向"), max_length=4, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(_("作者"), max_length=200, blank=True)
    body_text = models.TextField(_("正文"))
    body_html = models.TextField(_("HTML 正文（已净化）"), blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    # The ids the delivering channel gave the message (e.g. {"channel": "email",
    # "message_id": "<…>"}), and their digest (:func:`channel_key`): a delivery retried with
    # the same ids is recognised and never makes a second message.
    channel_ids = models.JSONField(default=dict, blank=True)
    channel_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"))

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "channel_key"],
                condition=~Q(channel_key=""),
                name="message_unique_channel_key",
            )
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_time"),
            # A ticket's replies (FCR contacts, first response) without reading the rows.
            models.Index(
                fields=["ticket", "direction", "created_at"], name="message_ticket_direction"
            ),
        ]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")


def channel_key(ids: Mapping[str, str]) -> str:
    """The digest a message's channel ids are recognised by: the same ids in any order give
    the same key; no ids, no key."""
    if not ids:
        return ""
    canonical = json.dumps(sorted((str(k), str(v)) for k, v in ids.items()), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.client_id}/{instance.ticket_id}/{filename}"


class Attachment(ClientOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class EventType(models.TextChoices):
    CREATED = "created", _("创建")
    STATUS = "status", _("状态变更")
    ASSIGNED = "assigned", _("分派")
    PRIORITY = "priority", _("优先级变更")
    KIND = "kind", _("类型变更")
    TAGS = "tags", _("分类变更")
    REPLIED = "replied", _("回复客户")
    NOTED = "noted", _("内部备注")
    CUSTOMER_MESSAGE = "customer_message", _("客户来信")
    ESCALATED = "escalated", _("升级至甲方部门")
    ESCALATION_ANSWERED = "escalation_answered", _("甲方部门已答复")
    ESCALATION_WARNED = "escalation_warned", _("升级即将逾期")
    ESCALATION_OVERDUE = "escalation_overdue", _("升级已逾期")
    ESCALATION_INFO_REQUESTED = "escalation_info_asked", _("甲方部门要求补充信息")
    ESCALATION_INFO_GIVEN = "escalation_info_given", _("已向甲方部门补充信息")
    ESCALATION_RETURNED = "escalation_returned", _("甲方部门退回升级")
    REOPENED = "reopened", _("重新打开")
    SLA_BREACHED = "sla_breached", _("时效超时")
    CUSTOMER_MERGED = "customer_merged", _("客户记录合并")


_DEPARTMENT_EVENTS = (
    EventType.ESCALATED,
    EventType.ESCALATION_INFO_REQUESTED,
    EventType.ESCALATION_INFO_GIVEN,
    EventType.ESCALATION_RETURNED,
    EventType.ESCALATION_WARNED,
    EventType.ESCALATION_OVERDUE,
)


class TicketEvent(ClientOwned):
    """One entry of a ticket's history, written in the transaction of the change."""

    client = client_key(db_constraint=False)  # the ticket's foreign key ties it to the client
    # No index of its own: event_ticket_time starts with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    type = models.CharField(max_length=24, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_time")]
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")

    def describe(self) -> str:
        """The change in words, e.g. "状态变更：处理中 → 已解决"."""
        labels: dict[str, type[models.TextChoices]] = {
            EventType.STATUS: Status,
            EventType.REOPENED: Status,
            EventType.PRIORITY: Priority,
            EventType.KIND: Kind,
        }
        choices = labels.get(self.type)
        old, new = self.data.get("old"), self.data.get("new")
        if choices is not None and new:
            names = {value: str(label) for value, label in choices.choices}
            before = f"{names.get(old, old)} → " if old else ""
            return f"{self.get_type_display()}：{before}{names.get(new, new)}"
        if self.type in _DEPARTMENT_EVENTS and self.data.get("department"):
            return f"{self.get_type_display()}：{self.data['department']}"
        return str(self.get_type_display())


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("待部门答复")
    ANSWERED = "answered", _("已答复")
    RETURNED = "returned", _("已退回")


class Escalation(ClientOwned):
    """A ticket handed to a client department, with the completion time (``expected_by``)
    kefu promised the customer. The promise is watched by wall-clock time (see
    kefu/tickets/promises.py): ``warn_at`` is when the department and the agent are warned,
    ``warned_at`` / ``overdue_at`` record that the warning and the overdue were recorded, and
    ``next_check_at`` is the next instant the sweeper must look (null once answered)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    department = models.ForeignKey(
        "contracts.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("升级原因"))
    expected_by = models.DateTimeField(_("预计完成时间"))
    status = models.CharField(
        max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    answer = models.TextField(_("部门答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    # Set while the department waits for information it asked the provider for; the
    # escalation stays open and its promised time is still watched.
    info_requested_at = models.DateTimeField(_("要求补充信息时间"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["department", "status"], name="escalation_dept_status"),
            models.Index(
                fields=["next_check_at"],
                name="escalation_next_check",
                condition=Q(next_check_at__isnull=False),
            ),
        ]
        verbose_name = _("升级")
        verbose_name_plural = _("升级")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


# A reply that has not reached the customer (yet, or at all).
UNDELIVERED = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.FAILED)
# Accepted by the transport: the reply counts for the customer, the SLA and the KPIs.
ACCEPTED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


class Delivery(ClientOwned):
    """How one public reply travels to the customer on its ticket's channel (see
    kefu.tickets.channels): queued → sending → sent (``accepted_at``: the transport took it)
    → delivered (where the channel reports it), or failed with the transport's reason.
    Written in the reply's transaction. Imported history carries deliveries marked sent at
    the message's own time: the source system delivered them."""

    MAX_ATTEMPTS = 8

    client = client_key(db_constraint=False)  # the ticket's foreign key ties it to the client
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="delivery")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # An agent's reply, which meets the response clocks once accepted; False for a notice
    # kefu writes itself (an escalation's expected completion time).
    is_reply = models.BooleanField(default=True)
    status = models.CharField(
        _("发送状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    external_id = models.CharField(max_length=300, blank=True)
    reason = models.TextField(_("失败原因"), blank=True)
    created_at = models.DateTimeField()

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # A ticket's first accepted reply (first response KPI, FCR contacts).
            models.Index(fields=["ticket", "accepted_at"], name="delivery_ticket_accepted"),
            # The retry sweep: due queued and stale sending rows.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]
        verbose_name = _("回复发送")
        verbose_name_plural = _("回复发送")

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED

    @property
    def resendable(self) -> bool:
        """A failed delivery the agent may send again (its channel's transport can)."""
        return self.status == DeliveryStatus.FAILED and channel_resendable(self.channel)


class SavedView(models.Model):
    """A queue filter saved under a name: the owner's own, or shared with every provider
    user who works the queue. ``query`` is the queue page's query string (its filters and
    sort), so a view opens exactly what was on screen when it was saved."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("名称"), max_length=40)
    query = models.CharField(_("筛选条件"), max_length=500)
    shared = models.BooleanField(_("共享给所有坐席"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name")
        ]
        verbose_name = _("保存的视图")
        verbose_name_plural = _("保存的视图")

    def __str__(self) -> str:
        return self.name

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet, client_key


class SurveyOrigin(models.TextChoices):
    """Why a survey exists. ``""``: imported history (it says nothing of how it was sent)."""

    RESOLUTION = "resolution", _("解决后回访")
    CALLBACK = "callback", _("电话抽样回访")


class SurveyStatus(models.TextChoices):
    """Where sending stands. Only ``sent`` surveys count as sent (``sent_at`` is set then
    and only then); a queued or failed one is in no figure."""

    QUEUED = "queued", _("待发送")
    # Handed to a transport that sends on its own (an SMS): sent once it says so.
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Survey(ClientOwned):
    """满意度回访: a CSAT request (5-point scale) and its answer, if any.

    A resolved ticket has at most one survey of origin ``resolution`` (the constraint
    below), whatever the number of resolutions, retries or concurrent dispatchers."""

    client = client_key(db_index=False)  # survey_client_sent starts with it
    external_id = models.CharField(max_length=100, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    channel = models.CharField(_("渠道"), max_length=10, blank=True)
    origin = models.CharField(
        _("来源"),
        max_length=10,
        choices=SurveyOrigin.choices,
        blank=True,
        default="",
        db_default="",
    )
    status = models.CharField(
        _("发送状态"),
        max_length=8,
        choices=SurveyStatus.choices,
        default=SurveyStatus.SENT,
        db_default=SurveyStatus.SENT,
    )
    due_at = models.DateTimeField(_("计划发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_error = models.CharField(max_length=500, blank=True, default="", db_default="")
    # The transport's own record of a survey handed to it (an SMS message's id).
    transport_ref = models.CharField(max_length=64, blank=True, default="", db_default="")
    expires_at = models.DateTimeField(_("链接有效期至"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("评分"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(_("评价"), blank=True)

    objects = ClientScopedQuerySet.as_manager()

    MAX_ATTEMPTS = 5

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=~Q(external_id=""),
                name="survey_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="survey_score_1_5",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(origin="resolution"),
                name="survey_one_per_resolved_ticket",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(origin="callback"),
                name="survey_one_callback_per_ticket",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="survey_sent_has_sent_at",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "sent_at"], name="survey_client_sent"),
            models.Index(fields=["status", "due_at"], name="survey_status_due"),
        ]
        verbose_name = _("满意度回访")
        verbose_name_plural = _("满意度回访")

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


def _default_channels() -> list[str]:
    return ["email", "portal", "chat", "phone"]


class SurveyRule(ClientOwned):
    """The survey and callback rules of one contract (its ``survey:`` section, editable in
    the admin). Times after resolution are wall-clock minutes; the callback due time is in
    the contract's service hours (business minutes on its service calendar)."""

    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.CASCADE, related_name="survey_rule"
    )
    active = models.BooleanField(_("启用"), default=True)
    # The ticket channels whose resolved tickets get a survey: email → a link by mail,
    # portal → a link on the portal, chat → the chat's own rating, phone/wechat → a link
    # by SMS (when kefu has an SMS sender).
    channels = models.JSONField(_("回访渠道"), default=_default_channels)
    delay_minutes = models.PositiveIntegerField(_("解决后多久发送（分钟）"), default=60)
    link_days = models.PositiveIntegerField(_("链接有效天数"), default=14)
    title_zh = models.CharField(_("标题（中文）"), max_length=200, default="服务满意度调查")
    title_en = models.CharField(
        _("标题（英文）"), max_length=200, default="How satisfied were you with our service?"
    )
    question_zh = models.TextField(
        _("问题（中文）"), default="您对本次服务满意吗？请打分（1 = 非常不满意，5 = 非常满意）。"
    )
    question_en = models.TextField(
        _("问题（英文）"),
        default="How would you rate this service? (1 = very dissatisfied, 5 = very satisfied)",
    )
    low_score_max = models.PositiveSmallIntegerField(
        _("低分阈值（≤）"), default=2, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    callback_due_minutes = models.PositiveIntegerField(
        _("低分回访时限（服务时间分钟）"), default=480
    )
    sample_channels = models.JSONField(_("电话抽样渠道"), default=list, blank=True)
    sample_count = models.PositiveIntegerField(
        _("每周每渠道抽样数"), null=True, blank=True, help_text=_("与百分比二选一")
    )
    sample_percent = models.FloatField(
        _("每周每渠道抽样百分比"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    sample_minimum = models.PositiveIntegerField(_("每渠道最少抽样数"), default=0)
    sample_exclude_answered = models.BooleanField(_("排除已回复调查的工单"), default=True)
    sample_exclude_kinds = models.JSONField(_("排除的工单类型"), default=list, blank=True)
    sample_due_minutes = models.PositiveIntegerField(
        _("抽样回访时限（服务时间分钟）"), default=2400
    )
    # Tickets resolved before this instant never get a survey: a new rule does not mail the
    # whole history.
    active_from = models.DateTimeField(_("生效时间"), auto_now_add=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id"]
        verbose_name = _("回访规则")
        verbose_name_plural = _("回访规则")

    def __str__(self) -> str:
        return f"{self.contract}"


class CallbackKind(models.TextChoices):
    LOW_SCORE = "low_score", _("低分回访")
    SAMPLE = "sample", _("抽样回访")


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", _("已接通")
    NOT_REACHED = "not_reached", _("未接通")
    REFUSED = "refused", _("拒绝回访")


class CallbackTask(ClientOwned):
    """回访: a call to a customer about one ticket, either because their survey score was
    low (for a supervisor) or because the weekly sample picked the ticket (for an agent)."""

    client = client_key(db_index=False)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="callbacks")
    kind = models.CharField(_("类型"), max_length=10, choices=CallbackKind.choices)
    # The low score that opened it (kind low_score).
    survey = models.OneToOneField(
        Survey,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="callback",
    )
    # The Monday (client time) of the week whose resolved tickets were sampled (kind sample).
    week = models.DateField(_("抽样周"), null=True, blank=True)
    # The sample's order key: deterministic, so a rerun picks the same tickets.
    rank = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    due_at = models.DateTimeField(_("回访期限"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(
        _("回访结果"), max_length=12, choices=CallbackOutcome.choices, blank=True
    )
    score = models.PositiveSmallIntegerField(
        _("评分"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("回访记录"), blank=True)
    # The phone survey the outcome recorded (kind sample, reached or refused).
    result = models.OneToOneField(
        Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # No ticket is sampled twice, whatever the week.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(kind="sample"), name="callback_sample_once"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="callback_score_1_5",
            ),
        ]
        indexes = [models.Index(fields=["client", "due_at"], name="callback_client_due")]
        verbose_name = _("回访任务")
        verbose_name_plural = _("回访任务")

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet


class Metric(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("确认登记")
    FIRST_RESPONSE = "first_response", _("首次响应")
    NEXT_RESPONSE = "next_response", _("处理进展")
    ESCALATION = "escalation", _("升级")
    RESOLUTION = "resolution", _("解决")


class SlaPolicy(ClientOwned):
    """The SLA targets a client's contract promises. One active policy per client."""

    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(active=True), name="sla_one_active_policy"
            )
        ]
        verbose_name = _("时效政策")
        verbose_name_plural = _("时效政策")

    def __str__(self) -> str:
        return self.name


def goal_text(seconds: int) -> str:
    """A target's duration as a contract states it: "30 秒", "15 分钟", "4 小时",
    "1 小时 30 分钟"; an odd number of seconds past a minute stays in seconds ("90 秒")."""
    if seconds % 60:
        return gettext("%(n)d 秒") % {"n": seconds}
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return gettext("%(n)d 分钟") % {"n": minutes}
    if not minutes:
        return gettext("%(n)d 小时") % {"n": hours}
    return gettext("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": minutes}


class SlaTarget(models.Model):
    """One promise: ``metric`` within ``seconds`` of business time on ``calendar`` for the
    tickets matching the filters (an empty filter matches everything). For each metric the
    first matching target by ``order`` applies."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("指标"), max_length=16, choices=Metric.choices)
    seconds = models.PositiveIntegerField(_("时限（营业秒数）"))
    calendar = models.ForeignKey(
        "calendars.Calendar", verbose_name=_("日历"), on_delete=models.PROTECT, related_name="+"
    )
    channels = models.JSONField(_("渠道"), default=list, blank=True)
    priorities = models.JSONField(_("优先级"), default=list, blank=True)
    kinds = models.JSONField(_("类型"), default=list, blank=True)
    warn_percent = models.PositiveSmallIntegerField(_("预警（%）"), default=80)
    breach_raise_priority = models.BooleanField(_("超时后提高优先级"), default=True)
    order = models.PositiveIntegerField(_("顺序"), default=100)

    class Meta:
        ordering = ["policy_id", "metric", "order", "id"]
        verbose_name = _("时效目标")
        verbose_name_plural = _("时效目标")

    def __str__(self) -> str:
        return f"{self.get_metric_display()} ≤ {self.goal_text} ({self.calendar})"

    @property
    def goal_text(self) -> str:
        return goal_text(self.seconds)

    def matches(self, *, channel: str, priority: str, kind: str) -> bool:
        return (
            (not self.channels or channel in self.channels)
            and (not self.priorities or priority in self.priorities)
            and (not self.kinds or kind in self.kinds)
        )


class ClockStatus(models.TextChoices):
    RUNNING = "running", _("计时中")
    PAUSED = "paused", _("已暂停")
    MET = "met", _("已达成")
    BREACHED = "breached", _("已超时")
    CANCELLED = "cancelled", _("已取消")


class SlaClock(ClientOwned):
    """One running target on one ticket.

    Business time is kept as ``consumed_seconds`` (used before the current run) plus the run
    that began at ``resumed_at``; ``due_at`` and ``warn_at`` are instants on the target's
    calendar. ``next_check_at`` is the next instant the sweeper must look at this clock
    (warning or due) and is null when nothing can happen without an event, so the sweeper
    reads only due rows through its index."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="clocks")
    target = models.ForeignKey(SlaTarget, on_delete=models.PROTECT, related_name="clocks")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    status = models.CharField(max_length=10, choices=ClockStatus.choices)
    goal_seconds = models.PositiveIntegerField()
    consumed_seconds = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    resumed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    provisional = models.BooleanField(default=False)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="sla_clock_next_check",
                condition=Q(next_check_at__isnull=False),
            ),
            models.Index(fields=["ticket", "status"], name="sla_clock_ticket"),
            models.Index(fields=["client", "status", "due_at"], name="sla_clock_client_due"),
        ]
        verbose_name = _("时效计时")
        verbose_name_plural = _("时效计时")

    @property
    def is_active(self) -> bool:
        return self.status in (ClockStatus.RUNNING, ClockStatus.PAUSED)


class SlaEventType(models.TextChoices):
    STARTED = "started", _("开始")
    PAUSED = "paused", _("暂停")
    RESUMED = "resumed", _("恢复")
    WARNED = "warned", _("预警")
    MET = "met", _("达成")
    BREACHED = "breached", _("超时")
    CANCELLED = "cancelled", _("取消")
    RECOMPUTED = "recomputed", _("重新计算")


class SlaEvent(ClientOwned):
    """A stored transition of a clock, with its instant: the record the client audits."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=12, choices=SlaEventType.choices)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("时效事件")
        verbose_name_plural = _("时效事件")

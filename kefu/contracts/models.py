from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet


class Client(models.Model):
    """甲方: the tenant. Everything about its customers carries its id."""

    code = models.CharField(
        _("代码"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", _("只允许字母、数字、-、_"))],
    )
    name = models.CharField(_("名称"), max_length=200)
    ticket_prefix = models.CharField(
        _("工单编号前缀"),
        max_length=8,
        default="KF",
        validators=[RegexValidator(r"^[A-Z]{1,8}$", _("大写字母"))],
    )
    time_zone = models.CharField(_("时区"), max_length=64, default="Asia/Shanghai")
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("甲方")
        verbose_name_plural = _("甲方")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Department(ClientOwned):
    """甲方指定部门: a department of the client that receives escalations."""

    name = models.CharField(_("名称"), max_length=200)
    email = models.EmailField(_("邮箱"), blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="department_unique_name")
        ]
        verbose_name = _("甲方部门")
        verbose_name_plural = _("甲方部门")

    def __str__(self) -> str:
        return self.name


class Contract(ClientOwned):
    """服务合同: the agreement kefu is judged by. Loaded from YAML (``kefu contract load``);
    ``source`` keeps the document as loaded."""

    number = models.CharField(_("合同编号"), max_length=64)
    title = models.CharField(_("合同名称"), max_length=200)
    party_a = models.CharField(_("甲方（委托方）"), max_length=200)
    party_b = models.CharField(_("乙方（服务方）"), max_length=200)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    auto_renew = models.BooleanField(_("自动续约"), default=False)
    notice_days = models.PositiveIntegerField(_("提前通知天数"), default=30)
    monthly_fee = models.DecimalField(_("月服务费"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    liquidated_damages_percent = models.DecimalField(
        _("违约金（合同总额 %）"), max_digits=5, decimal_places=2, default=0
    )
    credit_cap_percent = models.DecimalField(
        _("服务抵扣上限（月费 %）"), max_digits=5, decimal_places=2, default=0
    )
    channels = models.JSONField(_("服务渠道"), default=list)
    service_calendar = models.ForeignKey(
        "calendars.Calendar",
        verbose_name=_("服务时间"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    emergency_calendar = models.ForeignKey(
        "calendars.Calendar",
        verbose_name=_("紧急服务时间"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    service_level_seconds = models.PositiveIntegerField(_("服务水平接通秒数"), default=20)
    retention_days = models.PositiveIntegerField(_("数据保留天数"), default=180)
    report_recipients = models.JSONField(_("报告收件人"), default=list, blank=True)
    # [{"due": "2026-03-31", "amount": 558000, "description": "第一季度服务费"}, ...]
    payment_milestones = models.JSONField(_("付款节点"), default=list, blank=True)
    renewal_reminded_at = models.DateTimeField(_("续约提醒时间"), null=True, blank=True)
    source = models.TextField(_("合同 YAML"), blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="contract_unique_number")
        ]
        verbose_name = _("服务合同")
        verbose_name_plural = _("服务合同")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Comparison(models.TextChoices):
    AT_LEAST = ">=", "≥"
    AT_MOST = "<=", "≤"


class KpiTarget(models.Model):
    """绩效指标: a KPI (key as in DESIGN.md) compared with a target. Ratios are fractions
    (0.9 = 90 %), durations seconds. Missing it costs ``credit_percent`` of the monthly fee."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="kpi_targets")
    kpi = models.CharField(_("指标"), max_length=40)
    comparison = models.CharField(max_length=2, choices=Comparison.choices)
    target = models.FloatField(_("目标值"))
    label = models.CharField(_("名称"), max_length=100)
    credit_percent = models.DecimalField(
        _("未达标抵扣（月费 %）"), max_digits=5, decimal_places=2, default=0
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["contract_id", "order", "id"]
        verbose_name = _("绩效指标")
        verbose_name_plural = _("绩效指标")

    def __str__(self) -> str:
        return f"{self.label} {self.get_comparison_display()} {self.target}"


class ActionStatus(models.TextChoices):
    """Where an improvement action (改进措施, an entry of ``ImprovementGoal.actions``) stands."""

    PLANNED = "planned", _("计划中")
    DOING = "doing", _("进行中")
    DONE = "done", _("已完成")


class ImprovementGoal(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="goals")
    kpi = models.CharField(_("指标"), max_length=40)
    baseline = models.FloatField(_("基线"))
    target = models.FloatField(_("目标"))
    due = models.DateField(_("期限"))
    actions = models.JSONField(_("改进措施"), default=list, blank=True)

    class Meta:
        ordering = ["contract_id", "due"]
        verbose_name = _("改进目标")
        verbose_name_plural = _("改进目标")

    def __str__(self) -> str:
        return f"{self.kpi}: {self.baseline} → {self.target} ({self.due})"

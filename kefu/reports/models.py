from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet


class ServiceReport(ClientOwned):
    """服务报告: one issued version of a client's monthly report, frozen. ``data`` is the
    snapshot of every figure as issued; re-issuing makes a new version, never an edit."""

    period = models.CharField(_("月份"), max_length=7)  # YYYY-MM
    version = models.PositiveIntegerField(_("版本"))
    data = models.JSONField()
    plan = models.TextField(_("下月工作计划"), blank=True)
    issued_at = models.DateTimeField(_("发布时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(_("甲方确认时间"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "-period", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "period", "version"], name="report_unique_version"
            )
        ]
        verbose_name = _("服务报告")
        verbose_name_plural = _("服务报告")

    def __str__(self) -> str:
        return f"{self.period} v{self.version}"


class ReviewKind(models.TextChoices):
    SIGN_OFF = "sign_off", _("确认")
    DISPUTE = "dispute", _("异议")


class ReportReview(ClientOwned):
    """The client's answer to one issued version: a sign-off with its comment, or a dispute
    with its reason, which the provider answers in kefu. Kept, never edited: the history of
    how a month's figures were agreed."""

    report = models.ForeignKey(ServiceReport, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(_("类型"), max_length=10, choices=ReviewKind.choices)
    comment = models.TextField(_("意见"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("时间"))
    answer = models.TextField(_("乙方答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("报告确认与异议")
        verbose_name_plural = _("报告确认与异议")

    def __str__(self) -> str:
        return f"{self.report} {self.kind}"

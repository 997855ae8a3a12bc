"""The audit log: an append-only record of changes and of access to personal data.

Rows are written only through :func:`kefu.core.audit.audit_record`, inside the transaction
of the change they describe. The database refuses to update a row (a trigger on SQLite and
PostgreSQL) and, on PostgreSQL, to delete one; the ORM refuses both."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientScopedQuerySet


class AuditAction(models.TextChoices):
    CREATE = "create", _("创建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    REVEAL = "reveal", _("查看明文")
    EXPORT = "export", _("导出")
    ANONYMISE = "anonymise", _("匿名化")
    LOGIN = "login", _("登录")
    KEY_ROTATE = "key_rotate", _("密钥轮换")


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit record."""


class AuditEventQuerySet(ClientScopedQuerySet):
    """Provider-wide events (no client) are visible to provider admins only: the tenant
    filter of :meth:`visible_to` drops rows whose ``client_id`` is null."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # Kept beside the foreign key so the record still names the actor after the user is gone.
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    client = models.ForeignKey(
        "contracts.Client",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    action = models.CharField(_("操作"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    field = models.CharField(_("字段"), max_length=60, blank=True)
    reason = models.TextField(_("事由"), blank=True)
    # Never raw personal data: names of changed fields, counts, masked values.
    data = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client", "at"], name="audit_client_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class JobOutcome(models.TextChoices):
    OK = "ok", _("成功")
    FAILED = "failed", _("失败")


class JobRun(models.Model):
    """Where one periodic job (:mod:`kefu.core.jobs`) stands: one row per job name.

    ``claim`` is set by the scheduler that enqueued the job's task and cleared when the task
    finishes; while it is set and ``lease_until`` has not passed, no other scheduler
    enqueues the job. A claim is taken by one conditional UPDATE, so it works alike on
    SQLite and PostgreSQL."""

    name = models.CharField(_("任务"), max_length=100, unique=True)
    due_at = models.DateTimeField(_("下次到期"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(_("排队时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=JobOutcome.choices, blank=True)
    error = models.TextField(_("错误"), blank=True)
    runs = models.PositiveIntegerField(_("运行次数"), default=0)
    failures = models.PositiveIntegerField(_("失败次数"), default=0)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name

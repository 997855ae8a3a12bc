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

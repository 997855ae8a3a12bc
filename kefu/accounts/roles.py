"""Roles and what each may do. One table, used by pages and API alike."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("乙方管理员")
    SUPERVISOR = "supervisor", _("主管")
    AGENT = "agent", _("客服坐席")
    AUDITOR = "auditor", _("甲方联系人")
    DEPARTMENT = "department", _("甲方指定部门")


PROVIDER_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
CLIENT_ROLES = frozenset({Role.AUDITOR, Role.DEPARTMENT})


class Perm(StrEnum):
    TICKET_CREATE = "ticket.create"
    TICKET_REPLY = "ticket.reply"
    TICKET_NOTE = "ticket.note"
    TICKET_STATUS = "ticket.status"
    TICKET_EDIT = "ticket.edit"
    TICKET_ASSIGN = "ticket.assign"
    TICKET_ESCALATE = "ticket.escalate"
    ESCALATION_ANSWER = "escalation.answer"
    CUSTOMER_EDIT = "customer.edit"
    OVERVIEW_VIEW = "overview.view"


_AGENT = {
    Perm.TICKET_CREATE,
    Perm.TICKET_REPLY,
    Perm.TICKET_NOTE,
    Perm.TICKET_STATUS,
    Perm.TICKET_EDIT,
    Perm.TICKET_ASSIGN,
    Perm.TICKET_ESCALATE,
    Perm.CUSTOMER_EDIT,
}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(_AGENT | {Perm.OVERVIEW_VIEW}),
    Role.AGENT: frozenset(_AGENT),
    Role.AUDITOR: frozenset({Perm.OVERVIEW_VIEW}),
    Role.DEPARTMENT: frozenset({Perm.ESCALATION_ANSWER}),
}

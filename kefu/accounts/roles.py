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
    # Merging two records of one customer moves tickets between them: supervisors decide.
    CUSTOMER_MERGE = "customer.merge"
    OVERVIEW_VIEW = "overview.view"
    # Listen in on any chat, take it over, end or transfer another agent's chat.
    CHAT_SUPERVISE = "chat.supervise"
    # Personal data shows masked (138****8000, 王*) for every role, in pages, API, exports
    # and reports alike; these permit an explicit reveal of one field, with a reason, that
    # the audit log records (kefu.privacy.reveal).
    REVEAL_NAME = "customer.reveal_name"
    REVEAL_PHONE = "customer.reveal_phone"
    REVEAL_EMAIL = "customer.reveal_email"
    REVEAL_MESSAGE_PII = "message.reveal_pii"
    AUDIT_VIEW = "audit.view"
    PRIVACY_MANAGE = "privacy.manage"
    # Write knowledge-base articles, categories, synonyms and canned replies.
    KB_EDIT = "kb.edit"


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

# Who may reveal what. Provider admins and supervisors: everything (they handle complaints,
# identity checks and data-subject requests). Agents: phone numbers only, because calling a
# customer back is part of the job; they address customers by the masked name (王*), reply by
# e-mail through kefu without seeing the address, and ask a supervisor when an ID or card
# number in a message must be read. Client auditors and departments: nothing by default;
# their view is the masked one the contract's confidentiality clause expects.
_REVEAL_ALL = {Perm.REVEAL_NAME, Perm.REVEAL_PHONE, Perm.REVEAL_EMAIL, Perm.REVEAL_MESSAGE_PII}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(
        _AGENT
        | _REVEAL_ALL
        | {
            Perm.OVERVIEW_VIEW,
            Perm.AUDIT_VIEW,
            Perm.CUSTOMER_MERGE,
            Perm.CHAT_SUPERVISE,
            Perm.KB_EDIT,
        }
    ),
    Role.AGENT: frozenset(_AGENT | {Perm.REVEAL_PHONE}),
    Role.AUDITOR: frozenset({Perm.OVERVIEW_VIEW, Perm.AUDIT_VIEW}),
    Role.DEPARTMENT: frozenset({Perm.ESCALATION_ANSWER}),
}

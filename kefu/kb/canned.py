"""Filling a canned reply's placeholders for one ticket.

A placeholder is a name in braces, Chinese or English: ``{客户}`` / ``{customer}`` the
customer's masked name (王*, as every agent sees it: kefu.privacy.masking), ``{工单号}`` /
``{ticket}`` the ticket number, ``{坐席}`` / ``{agent}`` the agent's display name. Other
braces are left as written; nothing else of the ticket is reachable from a template."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.privacy import masking
from kefu.tickets.models import Ticket

PLACEHOLDERS = {
    "客户": "customer",
    "customer": "customer",
    "工单号": "ticket",
    "ticket": "ticket",
    "坐席": "agent",
    "agent": "agent",
}
_PATTERN = re.compile(r"\{(" + "|".join(re.escape(k) for k in PLACEHOLDERS) + r")\}")


def placeholder_values(*, ticket: Ticket | None, agent: User) -> dict[str, str]:
    customer = ""
    if ticket is not None and ticket.customer is not None and ticket.customer.name:
        customer = masking.name(ticket.customer.name)
    return {
        "customer": customer or _("客户"),
        "ticket": ticket.number if ticket is not None else "",
        "agent": agent.display_name or agent.get_username(),
    }


def canned_render(body: str, *, ticket: Ticket | None, agent: User) -> str:
    """``body`` with its placeholders filled for ``ticket`` and ``agent`` (a customer
    without a name is called 客户)."""
    values = placeholder_values(ticket=ticket, agent=agent)
    return _PATTERN.sub(lambda m: values[PLACEHOLDERS[m.group(1)]], body)

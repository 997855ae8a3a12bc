"""Time left until a due instant, or how long ago it passed, as pages show it: "剩 2小时15分"
/ "2 h 15 min left", "已超时 2小时" / "overdue 2 h" (red). kefu/static/kefu/countdown.js keeps
the same text ticking in the browser, with the same wording and units."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


def duration_text(seconds: float) -> str:
    """A duration in the two largest units that are not zero: days and hours, hours and
    minutes, minutes and seconds. Sign ignored."""
    s = int(abs(seconds))
    d, h, m, sec = s // 86400, s % 86400 // 3600, s % 3600 // 60, s % 60
    if d:
        return _("%(d)d天%(h)d小时") % {"d": d, "h": h} if h else _("%(d)d天") % {"d": d}
    if h:
        return _("%(h)d小时%(m)d分") % {"h": h, "m": m} if m else _("%(h)d小时") % {"h": h}
    if m:
        return _("%(m)d分%(s)d秒") % {"m": m, "s": sec} if sec else _("%(m)d分") % {"m": m}
    return _("%(s)d秒") % {"s": sec}


@register.simple_tag
def countdown(due: datetime | None, warn: object = False) -> SafeString | str:
    """A live countdown to ``due`` ("—" without one): time left, or, once ``due`` has
    passed, how long it is overdue, in red. ``warn`` (any true value, e.g. the instant a
    warning was recorded): amber while there is time left."""
    if due is None:
        return "—"
    left = (due - timezone.now()).total_seconds()
    late = left < 0
    css = "countdown late" if late else ("countdown warn" if warn else "countdown")
    text = (_("已超时 %(time)s") if late else _("剩 %(time)s")) % {"time": duration_text(left)}
    return format_html(
        '<span class="{}" data-due="{}">{}</span>',
        css,
        timezone.localtime(due).isoformat(timespec="seconds"),
        text,
    )


@register.filter
def is_past(due: datetime | None) -> bool:
    """Whether ``due`` has passed (False without one)."""
    return due is not None and due <= timezone.now()

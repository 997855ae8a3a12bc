"""``{{ text|fold_quoted }}``: a message body with the quoted history and signature of a
reply folded into a ``<details>`` element (no script), the new words shown first."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kefu.mail.parse import split_quoted

register = template.Library()


@register.filter
def fold_quoted(text: str) -> SafeString:
    new, quoted = split_quoted(str(text or ""))
    shown = linebreaksbr(new.rstrip("\n"), autoescape=True)
    if not quoted.strip():
        return shown
    return format_html(
        '{}<details class="quoted"><summary>{}</summary>{}</details>',
        shown,
        _("显示引用的历史邮件"),
        linebreaksbr(quoted.strip("\n"), autoescape=True),
    )

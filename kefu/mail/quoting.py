"""Where the sender's own words end in a plain-text email: quoted history (Outlook, Foxmail,
QQ mail, Gmail, iPhone, Thunderbird, ``>`` lines), forwarded blocks and signatures. Pure:
imports no Django.

The split is always at a line boundary and never drops anything: the agent view shows the
first part and folds the second."""

from __future__ import annotations

import re

_SP = r"(?:\s|&nbsp;)"
# "-----原始邮件-----", "------------------ 原始邮件 ------------------" (Foxmail, QQ mail),
# "---------- Forwarded message ---------" (Gmail), "-------- 转发的消息 --------" (Thunderbird).
_SEPARATOR = re.compile(
    rf"^{_SP}*[-_=—–]{{2,}}{_SP}*"
    r"(original message|original|forwarded message|原始邮件|原始郵件|邮件原件|郵件原件|原始信息"
    r"|原始消息|转发的邮件|转发邮件信息|转发邮件|转发的消息|轉寄的郵件|轉寄郵件|转发信息)"
    rf"{_SP}*[-_=—–]{{2,}}{_SP}*$",
    re.I,
)
_BEGIN_FORWARD = re.compile(
    r"^\s*(begin forwarded message|开始转发的邮件|開始轉寄的郵件)\s*[:：]\s*$", re.I
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")  # Outlook on the web puts this above the header block
_HEADER_KEY = re.compile(
    rf"^{_SP}*\**{_SP}*(发件人|寄件者|寄件人|from|发送时间|寄件日期|日期|时间|sent|date|收件人|收件者|to"
    rf"|抄送|副本|cc|主题|主旨|subject){_SP}*\**{_SP}*[:：]",
    re.I,
)
_FROM_KEY = re.compile(rf"^{_SP}*\**{_SP}*(发件人|寄件者|寄件人|from){_SP}*\**{_SP}*[:：]", re.I)
_ATTRIBUTION = re.compile(r"(wrote|написал|schrieb|a écrit|写道|寫道)\s*[:：]\s*$", re.I)
_ATTRIBUTION_START = re.compile(r"^\s*(on\s|在|于|於|\d{4}[-/年])", re.I)
_QUOTE_LINE = re.compile(r"^\s*>")
_DEVICE = (
    r"(iphone|ipad|ios|android|安卓|手机|手機|邮箱|郵箱|mail|outlook|网易|163|qq|华为|華為|huawei"
    r"|小米|xiaomi|荣耀|honor|oppo|vivo|三星|samsung|galaxy|企业微信|wps|foxmail|移动设备|mobile"
    r"|phone|icloud|钉钉|飞书|lark)"
)
_DEVICE_SIGNATURE = re.compile(
    r"^[-—–_\s]*(发自|来自|寄自|傳自|传自|從|从|sent from|sent with|sent via|sent using"
    rf"|get outlook for)\s*(我的)?\s*.{{0,30}}?{_DEVICE}.{{0,30}}$",
    re.I,
)
_MAX_ATTRIBUTION = 240


def split_quoted(text: str) -> tuple[str, str]:
    """Split a plain-text body into (what the sender wrote now, the quoted history and
    signature below it) so the agent view can fold the second part. Nothing is dropped:
    ``new + quoted == text``. When nothing but history would be left in the first part (a
    bare forward, a message that is all quote) nothing is folded: ``(text, "")``."""
    lines = text.splitlines(keepends=True)
    history = _history_start(lines)
    cut = _signature_start(lines, history)
    new = "".join(lines[:cut])
    if not new.strip():
        return text, ""
    return new, "".join(lines[cut:])


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _SEPARATOR.match(stripped) or _BEGIN_FORWARD.match(stripped):
            return index
        if _FROM_KEY.match(stripped) and _is_header_block(lines, index):
            previous = _previous_nonblank(lines, index)
            if previous is not None and _UNDERSCORES.match(lines[previous]):
                return previous
            return index
        if len(stripped) <= _MAX_ATTRIBUTION and _ATTRIBUTION.search(stripped):
            previous = _previous_nonblank(lines, index)
            if (
                previous == index - 1
                and not _ATTRIBUTION_START.match(stripped)
                and _ATTRIBUTION_START.match(lines[previous])
            ):
                return previous
            return index
    return _trailing_quote_start(lines)


def _is_header_block(lines: list[str], start: int) -> bool:
    """A From line opens a quoted header block when at least two other header fields
    (sent, to, subject ...) follow within the next six lines."""
    keys = set()
    for line in lines[start + 1 : start + 7]:
        match = _HEADER_KEY.match(line.strip())
        if match:
            keys.add(match.group(1).lower())
    return len(keys) >= 2


def _previous_nonblank(lines: list[str], index: int) -> int | None:
    for previous in range(index - 1, -1, -1):
        if lines[previous].strip():
            return previous
    return None


def _trailing_quote_start(lines: list[str]) -> int:
    """The first ``>`` line of the quote that ends the message. ``>`` lines followed by more
    of the sender's text are an inline reply and stay unfolded."""
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if _QUOTE_LINE.match(line):
            start = index
        elif line.strip():
            break
    return start


def _signature_start(lines: list[str], end: int) -> int:
    """The ``-- `` separator, or a device line ("发自我的iPhone", "来自网易邮箱大师") among
    the last lines before the history (which starts at ``end``); else ``end``."""
    for index, line in enumerate(lines[:end]):
        bare = line.rstrip("\r\n")
        if bare in ("-- ", "--"):
            return index
        stripped = bare.strip()
        if len(stripped) <= 40 and _DEVICE_SIGNATURE.match(stripped):
            rest = [later for later in lines[index + 1 : end] if later.strip()]
            if len(rest) <= 3:
                return index
    return end

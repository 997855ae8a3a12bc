"""Personal data masked in log lines exactly as on pages (:func:`kefu.privacy.masking.text`):
a phone number, ID number, bank card or e-mail address in a message, in its arguments, in
the extra fields of a line or in a traceback is written masked (``138****8000``,
``w***@example.com``).

Wired in ``settings.LOGGING`` as a filter of every handler (core, which writes most lines,
may not import this app)."""

from __future__ import annotations

import logging
import re

from kefu.privacy import masking

# What every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


# Every kind of personal data the detector knows (kefu.privacy.pii) holds at least ten
# digits (of any script, full-width included: a landline ``010-234 5678`` has ten, a mobile
# eleven, a card sixteen, an ID number seventeen) or, for an e-mail address, an at sign:
# text with fewer digits and no at sign is left alone unscanned (a duration, a status, a
# route with an API version). ``test_pii.py`` holds the shortest of each kind to this.
_MAY_HOLD = re.compile(r"[@＠]|\d(?:\D*\d){9}")


def _mask(value: str) -> str:
    return masking.text(value) if may_hold(value) else value


def may_hold(value: str) -> bool:
    """Whether ``value`` has enough digits (or an at sign) to hold personal data."""
    return _MAY_HOLD.search(value) is not None


class PersonalDataFilter(logging.Filter):
    """Masks the record in place, so every handler after it (and the formatter) sees only
    the masked text. Never drops a line, and never fails one: a message whose arguments do
    not fit its format is left for the handler to report."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Fields the writer built from no personal data (kefu's request line names its
        # route, view and method this way): not scanned.
        free: tuple[str, ...] = getattr(record, "pii_free", ())
        if "message" not in free:
            try:
                message = record.getMessage()
            except Exception:  # the handler's own error report covers a broken format
                return True
            masked = _mask(message)
            if masked != message:
                record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _mask(record.exc_text)
        if record.stack_info:
            record.stack_info = _mask(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if (
                key in _STANDARD
                or value is None
                or isinstance(value, (bool, int, float))
                or key in free
                or key == "pii_free"
            ):
                continue
            # Anything else is written as its text (Django's request object on
            # django.request lines shows its path and query): replaced only when it holds
            # something to mask, so objects stay objects for other handlers otherwise.
            text = value if isinstance(value, str) else str(value)
            masked = _mask(text)
            if masked != text:
                setattr(record, key, masked)
        return True

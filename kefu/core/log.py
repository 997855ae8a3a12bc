"""Logging pieces named in ``settings.LOGGING``."""

from __future__ import annotations

import logging


class SenderMistakeFilter(logging.Filter):
    """Django answers a request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or with too many
    fields or files with 400, but logs it on ``django.security.<exception>`` as an ERROR
    with the stack trace, as if the server had failed. Such a request is the sender's
    mistake (or a probe): keep the line, as a WARNING without the trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = (
                logging.WARNING,
                logging.getLevelName(logging.WARNING),
            )
        record.exc_info = None
        record.exc_text = None
        return True

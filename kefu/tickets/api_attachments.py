"""Attachments in the API: upload files with a reply or note (multipart), download one.

Uploads are checked like the pages' (size limit, type sniffed from the content, no
programs, HTML or SVG); a refused file is a 400 ``{"detail": {"attachments": [...]}}``."""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from kefu.accounts.models import User
from kefu.core.tenancy import get_visible_or_404
from kefu.tickets import selectors, services
from kefu.tickets.attachments import attachment_response
from kefu.tickets.models import Attachment
from kefu.tickets.schemas import NUL_REFUSED, Error, MessageRead
from kefu.tickets.serialize import message_data

router = Router(tags=["attachments"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 422: Error}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@router.post("/tickets/{ticket_id}/attachments", response={201: MessageRead, **ERRORS})
def upload_attachments(
    request: HttpRequest,
    ticket_id: int,
    body: Form[str] = "",
    direction: Form[Literal["out", "note"]] = "note",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    """A reply to the customer (``out``) or an internal note (``note``) with its files."""
    user = _user(request)
    ticket = selectors.access_ticket(user, ticket_id)
    if "\x00" in body:
        return Status(422, {"detail": {"body": [NUL_REFUSED]}})
    if not files:
        return Status(422, {"detail": {"files": ["请至少附上一个文件 / attach at least one file"]}})
    add = services.ticket_reply if direction == "out" else services.ticket_add_note
    try:
        message = add(ticket=ticket, actor=user, body=body, attachments=files)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "attachments" in exc.error_dict:
            return Status(400, {"detail": exc.message_dict})
        raise
    return Status(201, message_data(message))


@router.get(
    "/attachments/{attachment_id}",
    # The 200 is described only here: a file, not JSON. Declaring it in ``response`` as well
    # gave the document two "200" keys, which the docs page refused to parse.
    response=ERRORS,
    openapi_extra={
        "responses": {
            "200": {
                "description": "the file, as a download",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: int) -> Any:
    """The file itself, always as a download (``Content-Disposition: attachment``)."""
    return attachment_response(get_visible_or_404(Attachment, _user(request), pk=attachment_id))

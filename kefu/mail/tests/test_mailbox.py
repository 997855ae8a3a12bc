from __future__ import annotations

from django.db import connection

from kefu.conftest import Tenant
from kefu.mail.models import Mailbox
from kefu.mail.tests.conftest import make_mailbox


def test_mailbox_passwords_are_encrypted_at_rest(tenant_a: Tenant) -> None:
    box = make_mailbox(
        tenant_a, "kefu@acme.example", imap_password="imap-秘密-1", smtp_password="smtp-secret-2"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT imap_password, smtp_password FROM mail_mailbox WHERE id = %s", [box.pk]
        )
        stored = cursor.fetchone()
    assert all(value.startswith("v1:") for value in stored)
    assert "imap-秘密-1" not in stored[0] and "smtp-secret-2" not in stored[1]
    again = Mailbox.objects.get(pk=box.pk)
    assert (again.imap_password, again.smtp_password) == ("imap-秘密-1", "smtp-secret-2")

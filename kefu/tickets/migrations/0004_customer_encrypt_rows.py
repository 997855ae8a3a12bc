"""Existing customers: name, phones and emails encrypted; phone_key / email_key become keyed
blind indexes and name_key is filled (kefu.privacy.crypto). Plain SQL in batches, so it runs
the same on SQLite and PostgreSQL; reversible (decrypts and restores the plain keys)."""

import json

from django.db import migrations

BATCH = 1000


def _rows(schema_editor, table):
    """Every customer row, in id order, one batch at a time."""
    quote = schema_editor.connection.ops.quote_name
    sql = (
        f"SELECT id, client_id, name, phones, emails FROM {quote(table)} "  # noqa: S608
        "WHERE id > %s ORDER BY id"
    )
    last = 0
    while True:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql + f" LIMIT {BATCH}", [last])
            rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def _update(schema_editor, table, updates):
    quote = schema_editor.connection.ops.quote_name
    sql = (
        f"UPDATE {quote(table)} SET name = %s, phones = %s, emails = %s, "  # noqa: S608
        "phone_key = %s, email_key = %s, name_key = %s WHERE id = %s"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.executemany(sql, updates)


def _json_list(text):
    if isinstance(text, list):
        return text
    if not text:
        return []
    value = json.loads(text)
    return value if isinstance(value, list) else []


def _compact(items):
    """As kefu.privacy.fields.EncryptedJSONField writes a list before encrypting it."""
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def encrypt_customers(apps, schema_editor):
    from kefu.privacy.crypto import is_token
    from kefu.privacy.fields import encryption_context, key_ring

    ring = key_ring()
    table = apps.get_model("tickets", "Customer")._meta.db_table

    def seal(column, client_id, text):
        if not text or is_token(text):
            return text or ""
        return ring.encrypt(text, context=encryption_context(table, column, client_id))

    for rows in _rows(schema_editor, table):
        updates = []
        for pk, client_id, name, phones_text, emails_text in rows:
            if is_token(name or "") or is_token(phones_text or "") or is_token(emails_text or ""):
                continue
            phones = _json_list(phones_text)
            emails = _json_list(emails_text)
            updates.append(
                (
                    seal("name", client_id, name or ""),
                    seal("phones", client_id, _compact(phones) if phones else ""),
                    seal("emails", client_id, _compact(emails) if emails else ""),
                    ring.phone_index(str(phones[0])) if phones else "",
                    ring.email_index(str(emails[0])) if emails else "",
                    ring.name_index(name or ""),
                    pk,
                )
            )
        _update(schema_editor, table, updates)


def decrypt_customers(apps, schema_editor):
    from kefu.privacy.crypto import is_token, normalise_email, normalise_phone
    from kefu.privacy.fields import encryption_context, key_ring

    ring = key_ring()
    table = apps.get_model("tickets", "Customer")._meta.db_table

    def open_(column, client_id, text):
        if not text or not is_token(text):
            return text or ""
        return ring.decrypt(text, context=encryption_context(table, column, client_id))

    for rows in _rows(schema_editor, table):
        updates = []
        for pk, client_id, name, phones_text, emails_text in rows:
            phones = _json_list(open_("phones", client_id, phones_text))
            emails = _json_list(open_("emails", client_id, emails_text))
            updates.append(
                (
                    open_("name", client_id, name)[:200],
                    json.dumps(phones),
                    json.dumps(emails),
                    normalise_phone(str(phones[0]))[:40] if phones else "",
                    normalise_email(str(emails[0]))[:254] if emails else "",
                    "",
                    pk,
                )
            )
        _update(schema_editor, table, updates)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_customer_encryption"),
    ]

    operations = [
        migrations.RunPython(encrypt_customers, decrypt_customers, elidable=False),
    ]

"""Backups of a kefu installation: ``kefu backup --out DIR`` and ``kefu restore DIR``.

A backup is one directory::

    manifest.json          what is in it (below)
    database.sqlite3       the embedded database, copied with SQLite's online backup API
      or database.dump     PostgreSQL, ``pg_dump --format=custom``
    files/<root>/...       the files kefu keeps beside its database: ``media`` (uploaded
                           attachments, MEDIA_ROOT), ``mail`` (notification mails written
                           as files, EMAIL_FILE_PATH) and ``outbox`` (mail of mailboxes
                           whose SMTP server is "file", KEFU_MAIL_OUTBOX)

``manifest.json`` names the kefu version and commit that made it, the database kind, the
instant it was made (aware, in kefu's time zone), the last applied migration of each app,
the row count of every table and the size and SHA-256 of every file. Keys are not in it:
SECRET_KEY, KEFU_FIELD_KEYS and KEFU_INDEX_KEY are kept apart (README, "Backups"); the
manifest holds only the ids and short fingerprints of the field keys, so a restore can say
when the keys configured do not read the backup's encrypted fields.

The database is copied from one consistent snapshot while kefu keeps writing: the row
counts come from the same snapshot as the copy (SQLite: one read transaction held through
the copy; PostgreSQL: an exported snapshot that ``pg_dump --snapshot`` shares). Files are
copied after it, so every attachment the database names is there (an upload is written
before its row commits). A backup is made in a hidden directory beside ``DIR`` and renamed
to ``DIR`` once whole, so a half-made backup never passes for one.

Modules: :mod:`.create` (backup_create), :mod:`.restore` (backup_verify, backup_restore),
:mod:`.schedule` (the scheduled backup and its retention), and below them
:mod:`.database`, :mod:`.sqlite`, :mod:`.postgres`, :mod:`.files`, :mod:`.manifest`."""


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do, in Chinese
    and English, and names the file or table concerned."""

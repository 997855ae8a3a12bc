"""kefu's var directory (``KEFU_VAR_DIR``) is private to the user kefu runs as: it holds the
embedded database (sessions, message bodies, raw mail), uploads, mail files and keys.

Importing the settings sets the process umask to ``077``, so whatever kefu creates there
— the SQLite file and its WAL, uploaded attachments (``FILE_UPLOAD_PERMISSIONS`` says the
same), notification mails — is 0600 and each directory 0700. :func:`var_dir_make_private`
also closes a var directory an earlier version left open: the directory itself and the
entries directly in it lose their group and other bits (the directory alone already shuts
everyone else out of what lies below it)."""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

PRIVATE_UMASK = 0o077


def var_dir_make_private(var_dir: Path) -> None:
    """Create the var directory, or take group and other bits off it and its entries. What
    belongs to another user (a command run under another account) is left as it is."""
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(PermissionError):
        var_dir.chmod(0o700)
    for entry in os.scandir(var_dir):
        if entry.is_symlink():
            continue
        mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
        if mode & 0o077:
            with suppress(PermissionError):
                os.chmod(entry.path, mode & 0o700)

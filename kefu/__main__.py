"""The ``kefu`` command line: Django's management commands under kefu's settings."""

from __future__ import annotations

import os
import sys

# Plain Python (no Django import), so it can speak before Django's settings load.
from kefu.core.doctor import doctor_report, settings_findings


def _doctor_settings() -> None:
    """``kefu doctor`` with settings that stop kefu from starting (production without its
    secret or keys …): say so as a finding with its fix, and exit 1, instead of Django's
    "Unknown command"."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings module)
    except ImproperlyConfigured as exc:
        _healthy, lines = doctor_report(settings_findings(exc))
        print("\n".join(lines))
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "kefu"
    if args[1:2] == ["doctor"]:
        _doctor_settings()
    execute_from_command_line(args)


if __name__ == "__main__":
    main()

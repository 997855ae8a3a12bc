"""A minimal Django project hosting django-helpdesk, the baseline of bench/ticket_intake.py.

It runs in its own virtualenv (var/bench/helpdesk-venv), never in kefu's."""

"""Ticket numbers (``<prefix>-<year>-<000001>``): one sequence per client and year, taken
by every way a ticket comes into being — a channel or the API (:func:`ticket_number_assign`)
and the history import (:func:`ticket_numbers_reserve`) — so numbers have no gaps and no
duplicates, whoever takes them.

The year is the ticket's creation year in the current time zone (Asia/Shanghai by
default). The sequence row stays locked from the moment a number is taken until the
transaction ends: the less a transaction does after taking its number, the more tickets a
client can take in per second."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.utils import timezone

from kefu.contracts.models import Client
from kefu.tickets.models import Ticket, TicketSequence


def ticket_number_format(prefix: str, year: int, n: int) -> str:
    return f"{_stem(prefix, year)}{n:06d}"


def _stem(prefix: str, year: int) -> str:
    return f"{prefix}-{year}-"


def ticket_number_year(at: datetime) -> int:
    """The year a ticket created at ``at`` is numbered in."""
    return timezone.localtime(at).year


def _advance(client: Client, year: int, by: int) -> int:
    """Move the client's sequence for ``year`` on by ``by`` and return its new last
    number: one UPDATE … RETURNING (SQLite 3.35+ and PostgreSQL), which also locks the row
    until the transaction ends. The row is made the first time a year is used."""
    table = TicketSequence._meta.db_table
    sql = f"UPDATE {table} SET last = last + %s WHERE client_id = %s AND year = %s RETURNING last"  # noqa: S608 - table name from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [by, client.pk, year])
        row = cursor.fetchone()
        if row is None:
            TicketSequence.objects.get_or_create(client=client, year=year)
            cursor.execute(sql, [by, client.pk, year])
            row = cursor.fetchone()
    return int(row[0])


def ticket_number_next(client: Client, at: datetime) -> str:
    """Take the client's next number for the year of ``at``."""
    year = ticket_number_year(at)
    return ticket_number_format(client.ticket_prefix, year, _advance(client, year, 1))


def ticket_number_placeholder() -> str:
    """A placeholder that keeps (client, number) unique until :func:`ticket_number_assign`
    replaces it in the same transaction; never committed, so nobody ever sees it."""
    return "~" + secrets.token_hex(12)


def ticket_number_assign(ticket: Ticket, client: Client) -> None:
    """Give a saved ticket (written with :func:`ticket_number_placeholder`) its number: to be
    the last write of its transaction (see the module docstring)."""
    if connection.vendor == "postgresql":
        ticket.number = _assign_in_one_statement(ticket, client)
        return
    ticket.number = ticket_number_next(client, ticket.created_at)
    table = Ticket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET number = %s WHERE id = %s",  # noqa: S608 - table name from the model
            [ticket.number, ticket.pk],
        )


# The sequence's UPDATE and the ticket's in one statement, on PostgreSQL: the row lock is
# held from the number's taking to the commit, and this spares that stretch a round trip
# (and every create a statement; bench/README.md, sixth run). The number is written as
# ticket_number_format writes it, six digits at least (test_numbering.py checks past
# 999999). SQLite, which has no UPDATE inside WITH, keeps the two statements (its writers
# queue on one lock for the whole transaction anyway).
_SEQUENCE_TABLE, _TICKET_TABLE = TicketSequence._meta.db_table, Ticket._meta.db_table
_ASSIGN = (
    f"WITH taken AS (UPDATE {_SEQUENCE_TABLE} SET last = last + 1"  # noqa: S608 - table names from the models
    " WHERE client_id = %s AND year = %s RETURNING last)"
    f" UPDATE {_TICKET_TABLE} SET number = %s || CASE WHEN taken.last < 1000000"
    " THEN lpad(taken.last::text, 6, '0') ELSE taken.last::text END"
    f" FROM taken WHERE {_TICKET_TABLE}.id = %s RETURNING {_TICKET_TABLE}.number"
)


def _assign_in_one_statement(ticket: Ticket, client: Client) -> str:
    year = ticket_number_year(ticket.created_at)
    params: list[int | str] = [client.pk, year, _stem(client.ticket_prefix, year), ticket.pk]
    with connection.cursor() as cursor:
        cursor.execute(_ASSIGN, params)
        row = cursor.fetchone()
        if row is None:  # the client's first ticket of the year: its sequence row is made
            TicketSequence.objects.get_or_create(client=client, year=year)
            cursor.execute(_ASSIGN, params)
            row = cursor.fetchone()
    if row is None:  # no such ticket row: its caller's transaction must not go on
        raise Ticket.DoesNotExist(f"ticket {ticket.pk} is not written")
    return str(row[0])


def ticket_numbers_reserve(client: Client, created: Iterable[datetime]) -> list[str]:
    """Numbers for tickets created at these instants, in the order given: one statement
    per year, the same sequences as live tickets use."""
    years = [ticket_number_year(at) for at in created]
    last_before = {
        year: _advance(client, year, n) - n for year, n in sorted(Counter(years).items())
    }
    numbers = []
    for year in years:
        last_before[year] += 1
        numbers.append(ticket_number_format(client.ticket_prefix, year, last_before[year]))
    return numbers

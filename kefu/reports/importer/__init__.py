"""Import of history (tickets with messages and events, calls, survey answers) from JSON
Lines, one record per line — the format is documented in the README.

The whole file is validated first (:func:`parse_lines`): a bad line is reported with its
line number and field and nothing is written. Then :func:`import_history` writes
everything in one transaction. Records carry the source system's ``id``; a record whose id
was imported before is skipped, so importing the same file twice changes nothing. Unknown
agents are created as inactive agents."""

from kefu.reports.importer.schema import (
    CallIn,
    CustomerIn,
    EventIn,
    ImportFileError,
    MessageIn,
    Record,
    SurveyIn,
    TicketIn,
    parse_lines,
)
from kefu.reports.importer.writer import ImportResult, import_history

__all__ = [
    "CallIn",
    "CustomerIn",
    "EventIn",
    "ImportFileError",
    "ImportResult",
    "MessageIn",
    "Record",
    "SurveyIn",
    "TicketIn",
    "import_history",
    "parse_lines",
]

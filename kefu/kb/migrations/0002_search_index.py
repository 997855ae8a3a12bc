"""The full-text index itself: an FTS5 table on SQLite, a GIN index on PostgreSQL
(kefu.kb.index)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_article_fts "
    "USING fts5(title, body, tokenize='unicode61')"
)
# How many articles hold each word: the search starts from the rarer words of a query.
SQLITE_VOCAB = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_article_fts_vocab "
    "USING fts5vocab(kb_article_fts, 'row')"
)
PG_CREATE = (
    "CREATE INDEX IF NOT EXISTS kb_articlesearch_vector_gin "
    "ON kb_articlesearch USING gin (vector)"
)


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
        schema_editor.execute(SQLITE_VOCAB)
    elif vendor == "postgresql":
        schema_editor.execute(PG_CREATE)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS kb_article_fts_vocab")
        schema_editor.execute("DROP TABLE IF EXISTS kb_article_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS kb_articlesearch_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

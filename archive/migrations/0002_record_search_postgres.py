"""Full-text and trigram search over ``archive_recordentry``, on PostgreSQL only.

A ``search_vector`` column kept by a trigger from ``text`` with the row's own
text-search configuration (``search_config``: finnish, swedish, english, turkish,
indonesian or simple), under a GIN index; and a trigram GIN index on ``text``
(``pg_trgm``) for the fallback when full-text search finds nothing (a word the
dictionary does not stem, part of a word, a typo). On SQLite the search falls back
to a plain substring match and none of this exists.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE archive_recordentry ADD COLUMN search_vector tsvector",
    """
    CREATE FUNCTION archive_recordentry_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector := to_tsvector(NEW.search_config::regconfig, coalesce(NEW.text, ''));
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER archive_recordentry_search_vector_trg
    BEFORE INSERT OR UPDATE OF text, search_config ON archive_recordentry
    FOR EACH ROW EXECUTE FUNCTION archive_recordentry_search_vector()
    """,
    "CREATE INDEX record_entry_fts_idx ON archive_recordentry USING gin (search_vector)",
    "CREATE INDEX record_entry_trgm_idx ON archive_recordentry USING gin (text gin_trgm_ops)",
    # The author filter ("part of a name or handle") under a trigram index too.
    "CREATE INDEX record_entry_author_trgm_idx ON archive_recordentry "
    "USING gin (author gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS record_entry_author_trgm_idx",
    "DROP INDEX IF EXISTS record_entry_trgm_idx",
    "DROP INDEX IF EXISTS record_entry_fts_idx",
    "DROP TRIGGER IF EXISTS archive_recordentry_search_vector_trg ON archive_recordentry",
    "DROP FUNCTION IF EXISTS archive_recordentry_search_vector()",
    "ALTER TABLE archive_recordentry DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]

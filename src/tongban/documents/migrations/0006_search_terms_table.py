"""PostgreSQL's search index moves to a narrow table of its own (documents.search owns the queries).

Measured over 100,000 archived documents (`make bench NAME=document_search`): the generated tsvector
columns made every match a visit to the wide entry row (about 1.9 KB of word text on the heap), and
the words and the access tokens sat in two GIN indexes whose bitmaps were joined, or one of them was
checked row by row by decompressing the document's tsvector. documents_searchterms holds one row per
entry: the document id and a single tsvector of the weighted words (title A, header B, text D) and
the access and filter tokens, prefixed with "_" (jieba's words never hold "_", so a token such as
a5 cannot be confused with the word "A5"), and the title's own small tsvector for ranking. One GIN
index answers words, access and filters together and exactly (no re-check of the rows), and the
heap it leads to is about 180 bytes a row: ranking reads the title's vector there instead of
decompressing each document's large one (about 25 µs a row). Triggers on documents_searchentry
keep it in step, as FTS5's triggers do on SQLite.
"""

from django.db import migrations

POSTGRESQL = [
    "DROP INDEX IF EXISTS documents_searchentry_acl",
    "DROP INDEX IF EXISTS documents_searchentry_tsv",
    "ALTER TABLE documents_searchentry DROP COLUMN IF EXISTS acl_tsv",
    "ALTER TABLE documents_searchentry DROP COLUMN IF EXISTS tsv",
    # toast_tuple_target: the large tsvector goes out of line once a row passes 256 bytes, so the
    # heap stays narrow however long the documents are; the title's small one stays in the row.
    "CREATE TABLE documents_searchterms (document_id integer PRIMARY KEY, "
    "title_terms tsvector NOT NULL, terms tsvector NOT NULL) WITH (toast_tuple_target = 256)",
    """CREATE FUNCTION documents_searchterms_of(title text, meta text, body text, acl text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
        SELECT setweight(to_tsvector('simple'::regconfig, title), 'A')
            || setweight(to_tsvector('simple'::regconfig, meta), 'B')
            || setweight(to_tsvector('simple'::regconfig, body), 'D')
            || array_to_tsvector(ARRAY(
                SELECT '_' || token FROM unnest(string_to_array(acl, ' ')) AS token WHERE token <> ''))
    $$""",
    """CREATE FUNCTION documents_searchterms_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM documents_searchterms WHERE document_id = OLD.document_id;
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.document_id <> OLD.document_id THEN
            DELETE FROM documents_searchterms WHERE document_id = OLD.document_id;
        END IF;
        INSERT INTO documents_searchterms (document_id, title_terms, terms)
        VALUES (NEW.document_id, setweight(to_tsvector('simple'::regconfig, NEW.title), 'A'),
                documents_searchterms_of(NEW.title, NEW.meta, NEW.body, NEW.acl))
        ON CONFLICT (document_id) DO UPDATE SET title_terms = EXCLUDED.title_terms, terms = EXCLUDED.terms;
        RETURN NEW;
    END $$""",
    """CREATE FUNCTION documents_searchterms_clear() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE documents_searchterms;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER documents_searchterms_sync AFTER INSERT OR UPDATE OR DELETE ON documents_searchentry "
    "FOR EACH ROW EXECUTE FUNCTION documents_searchterms_sync()",
    # Test databases are emptied with TRUNCATE, which runs no row triggers.
    "CREATE TRIGGER documents_searchterms_clear AFTER TRUNCATE ON documents_searchentry "
    "FOR EACH STATEMENT EXECUTE FUNCTION documents_searchterms_clear()",
    "INSERT INTO documents_searchterms (document_id, title_terms, terms) "
    "SELECT document_id, setweight(to_tsvector('simple'::regconfig, title), 'A'), "
    "documents_searchterms_of(title, meta, body, acl) FROM documents_searchentry",
    "CREATE INDEX documents_searchterms_terms ON documents_searchterms USING gin (terms)",
]
POSTGRESQL_UNDO = [
    "DROP TRIGGER IF EXISTS documents_searchterms_clear ON documents_searchentry",
    "DROP TRIGGER IF EXISTS documents_searchterms_sync ON documents_searchentry",
    "DROP FUNCTION IF EXISTS documents_searchterms_clear()",
    "DROP FUNCTION IF EXISTS documents_searchterms_sync()",
    "DROP TABLE IF EXISTS documents_searchterms",
    "DROP FUNCTION IF EXISTS documents_searchterms_of(text, text, text, text)",
    "ALTER TABLE documents_searchentry ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, meta), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'D')) STORED",
    "ALTER TABLE documents_searchentry ADD COLUMN acl_tsv tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig, acl)) STORED",
    "CREATE INDEX documents_searchentry_tsv ON documents_searchentry USING gin (tsv)",
    "CREATE INDEX documents_searchentry_acl ON documents_searchentry USING gin (acl_tsv)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("documents", "0005_archive_retention_search")]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_UNDO))]

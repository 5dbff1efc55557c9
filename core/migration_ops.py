"""Migration operations of our own."""

from django.db import migrations


def drop_like_indexes(model_name: str, *field_names: str) -> migrations.RunPython:
    """On PostgreSQL Django gives every indexed or unique varchar column a second index with
    `varchar_pattern_ops` (`…_like`), for `LIKE 'prefix%'` lookups. None of ours makes one on
    these columns (ids are looked up whole), so the second index is only one more write per
    insert: drop it. Reversible (it is made again as Django makes it)."""

    def _like_index(schema_editor, model, name: str) -> str:
        column = model._meta.get_field(name).column
        return schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(*model_name.split("."))
        for name in field_names:
            index = schema_editor.quote_name(_like_index(schema_editor, model, name))
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(*model_name.split("."))
        for name in field_names:
            sql = schema_editor._create_like_index_sql(model, model._meta.get_field(name))
            if sql is not None:
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)

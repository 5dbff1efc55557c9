"""Migration operations of our own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps
    from django.db.models import Model


def drop_like_indexes(model_name: str, *field_names: str) -> migrations.RunPython:
    """On PostgreSQL Django gives every indexed or unique varchar column a second index with
    `varchar_pattern_ops` (`…_like`), for `LIKE 'prefix%'` lookups. None of ours makes one on
    these columns (ids are looked up whole), so the second index is only one more write per
    insert: drop it. Reversible (it is made again as Django makes it)."""

    def _like_index(schema_editor: BaseDatabaseSchemaEditor, model: type[Model], name: str) -> str:
        # the named fields are concrete (indexed varchar) columns
        column = model._meta.get_field(name).column  # type: ignore[union-attr]
        # a private method of Django's schema editors that django-stubs leaves out
        return schema_editor._create_index_name(  # type: ignore[attr-defined,no-any-return]
            model._meta.db_table, [column], suffix="_like"
        )

    def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        # model_name is "app_label.ModelName": get_model's two string arguments
        model = apps.get_model(*model_name.split("."))  # type: ignore[arg-type]
        for name in field_names:
            index = schema_editor.quote_name(_like_index(schema_editor, model, name))
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")

    def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        # model_name is "app_label.ModelName": get_model's two string arguments
        model = apps.get_model(*model_name.split("."))  # type: ignore[arg-type]
        for name in field_names:
            # PostgreSQL's schema editor's private method, left out of django-stubs
            sql = schema_editor._create_like_index_sql(model, model._meta.get_field(name))  # type: ignore[attr-defined]
            if sql is not None:
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)

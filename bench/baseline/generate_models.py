#!/usr/bin/env python
"""Print bench/baseline/models.py: the product's tables, column for column, as plain Django.

    DJANGO_SETTINGS_MODULE=config.settings PAYINTENTS_DEV=1 \\
        .venv/bin/python bench/baseline/generate_models.py \\
        | .venv/bin/ruff format --stdin-filename bench/baseline/models.py - > bench/baseline/models.py

It reads `_meta.concrete_fields` of the product's models (each field's `deconstruct()`) and
writes the same columns (names, types, nullability, max_length, unique, defaults) as plain
Django fields: django-fsm's FSMField becomes a CharField, events' PayloadField a JSONField, a
ForeignKey points at the baseline's model of the same table (a product model without one, the
customer and the checkout, gets a stub with only its primary key, so the columns, their foreign
keys and their indexes stay the same). Left out: `choices`, `help_text`, FSMField's
`protected` (not columns), `db_index` (as a plain app, a foreign key keeps Django's default index
and a plain column has none) and every `Meta.indexes` entry but
the list index (account, livemode, -created, -id), which is copied with its name prefixed
`bl_`: the product's other indexes serve its features (expiry, abandonment, processing and
in-flight sweeps, the event relay, customer and type filters, events by object).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PAYINTENTS_DEV", "1")

import django  # noqa: E402

django.setup()

from django.db import models  # noqa: E402
from django.utils import timezone  # noqa: E402

# product model label → baseline class name, in the order they are written
MODELS = {
    "accounts.Account": "Account",
    "payments.Customer": "Customer",
    "checkouts.Checkout": "Checkout",
    "payments.PaymentMethod": "PaymentMethod",
    "intents.PaymentIntent": "PaymentIntent",
    "payments.Charge": "Charge",
    "events.Event": "Event",
}
STUBS = {"payments.Customer", "checkouts.Checkout"}  # only their primary key
DROPPED = {"choices", "help_text", "protected", "serialize"}
LIST_INDEX = ["account", "livemode", "-created", "-id"]


def plain_class(field) -> str:
    """The plain Django field class of a product field."""
    if isinstance(field, models.ForeignKey):
        return "models.ForeignKey"
    if type(field).__name__ == "PayloadField":
        return "ValuesJSONField"
    for cls in type(field).__mro__:
        if cls.__module__.startswith("django.db.models"):
            return f"models.{cls.__name__}"
    raise ValueError(f"no Django base for {field!r}")


def render_value(value, field) -> str:
    if value is timezone.now:
        return "timezone.now"
    if value in (dict, list):
        return value.__name__
    prefix = getattr(value, "prefix", None)
    if prefix is not None and callable(value):  # core.ids.id_factory("pi")
        return f'IdFactory("{prefix}")'
    if isinstance(value, str) and hasattr(value, "label"):  # a TextChoices member
        return repr(str(value))
    if callable(value):
        raise ValueError(f"cannot render default {value!r} of {field}")
    return repr(value)


def render_field(field) -> str:
    name, path, args, kwargs = field.deconstruct()
    assert not args, (field, args)
    kwargs = {k: v for k, v in kwargs.items() if k not in DROPPED}
    # Django's default everywhere: no index on a plain column, one on a foreign key (the
    # product turns some of those off; a plain app keeps them)
    kwargs.pop("db_index", None)
    parts = []
    if isinstance(field, models.ForeignKey):
        target = MODELS[field.related_model._meta.label]
        parts.append(f'"{target}"')
        on_delete = kwargs.pop("on_delete")
        kwargs.pop("to")
        parts.append(f"on_delete=models.{on_delete.__name__}")
    for key, value in kwargs.items():
        parts.append(f"{key}={render_value(value, field)}")
    return f"    {name} = {plain_class(field)}({', '.join(parts)})"


def render_model(label: str, baseline_name: str) -> str:
    model = django.apps.apps.get_model(label)
    fields = model._meta.concrete_fields
    if label in STUBS:
        fields = [model._meta.pk]
    lines = [f"class {baseline_name}(models.Model):"]
    doc = f"The columns of `{label}`" + (" (its primary key only)." if label in STUBS else ".")
    lines.append(f'    """{doc}"""')
    lines.append("")
    lines += [render_field(f) for f in fields]
    lines.append("")
    lines.append("    class Meta:")
    lines.append('        app_label = "baseline"')
    for index in model._meta.indexes:
        if list(index.fields) == LIST_INDEX and label not in STUBS:
            lines.append(
                f"        indexes = [models.Index(fields={list(index.fields)!r}, "
                f'name="bl_{index.name}")]'
            )
    lines.append("")
    lines.append("    def __str__(self) -> str:")
    lines.append("        return self.id")
    return "\n".join(lines)


HEADER = '''"""The product's rows as a bare Django app: generated, do not edit by hand.

    DJANGO_SETTINGS_MODULE=config.settings PAYINTENTS_DEV=1 \\\\
        .venv/bin/python bench/baseline/generate_models.py \\\\
        | .venv/bin/ruff format --stdin-filename bench/baseline/models.py - > bench/baseline/models.py

Each table has the columns of the product's table (names, types, nullability, max_length,
unique, defaults), read from the product models' `_meta.concrete_fields` (`deconstruct()`):
django-fsm's FSMField is a CharField here, events' PayloadField a ValuesJSONField (a JSONField
inserted as plain VALUES rows, as the product does: the baseline gets the product's cheap
bulk insert of events), foreign keys point at the baseline's tables. Customer and Checkout hold only their primary key (the intent's,
the method's and the charge's nullable foreign keys to them stay columns with their
constraint and index; the bench leaves them NULL). Indexes: the foreign keys' default ones and
each table's list index (account, livemode, -created, -id; named `bl_…`). Left out: the
product's other indexes, which serve its features (expiry, abandonment, processing and
in-flight sweeps, the event relay, customer and type filters, `db_index` on status, updated
and events' object_id), and `choices`/`help_text` (not columns).
"""

from django.db import models
from django.utils import timezone

from .fields import IdFactory, ValuesJSONField  # noqa: F401 (the generated fields use them)
'''


def main() -> None:
    sections = [HEADER.rstrip("\n")]
    sections += [render_model(label, name) for label, name in MODELS.items()]
    print("\n\n\n".join(sections))


if __name__ == "__main__":
    main()

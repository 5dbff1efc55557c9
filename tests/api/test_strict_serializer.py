"""StrictSerializer builds and runs only the fields a request sends (plus those that act when
absent), and must answer exactly as DRF's own path, which builds and runs every field."""

from __future__ import annotations

import itertools

import pytest
from django.urls import get_resolver

from api.serializers import StrictSerializer
from core.errors import DomainError

# Values of every JSON and form shape, valid for some fields and wrong for others.
VALUES = ["", "abc", "usd", "12", 12, -1, 0, True, "true", None, {"a": "b"}, {}, ["x"], [], "1.5"]


def _request_serializers() -> list[type[StrictSerializer]]:
    get_resolver().url_patterns  # import every view, so every serializer module is loaded  # noqa: B018
    found, todo = [], [StrictSerializer]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("tests."):
                continue
            found.append(sub)
            todo.append(sub)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _outcome(cls, data, fast: bool, monkeypatch):
    monkeypatch.setattr(StrictSerializer, "fast_path", fast)
    serializer = cls(data=data)
    try:
        valid = serializer.is_valid()
    except DomainError as exc:  # parameter_unknown and the like, raised, not collected
        return ("raised", type(exc).__name__, str(exc), getattr(exc, "param", None))
    if valid:
        return ("valid", dict(serializer.validated_data))
    return ("errors", _codes(serializer.errors))


def _codes(detail):
    """Errors with their codes (ErrorDetail compares equal to its text alone)."""
    if isinstance(detail, dict):
        return {key: _codes(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_codes(item) for item in detail]
    return (str(detail), getattr(detail, "code", None))


SERIALIZERS = _request_serializers()


def test_every_request_serializer_is_covered():
    names = {c.__name__ for c in SERIALIZERS}
    assert {"PaymentIntentCreateSerializer", "PaymentIntentConfirmSerializer"} <= names
    assert len(SERIALIZERS) > 20


@pytest.mark.django_db
@pytest.mark.parametrize("cls", SERIALIZERS, ids=lambda c: c.__name__)
def test_answers_as_drf_does(cls, monkeypatch):
    """Nothing, each parameter alone with every kind of value, pairs of parameters, and an
    unknown one: the same validated data, the same errors with the same codes, or the same
    error raised."""
    names = [n for n, f in cls().fields.items() if not f.read_only]
    inputs: list[dict] = [{}, {"nope": "1"}, {"expand": ["x"]}]
    inputs += [{name: value} for name in names for value in VALUES]
    inputs += [{a: "12", b: "abc"} for a, b in itertools.combinations(names, 2)]
    required = {n: f for n, f in cls().fields.items() if f.required}
    if required:  # every required one with each value, so the others are reached too
        inputs += [dict.fromkeys(required, value) for value in VALUES]
    for data in inputs:
        fast = _outcome(cls, data, True, monkeypatch)
        drf = _outcome(cls, data, False, monkeypatch)
        assert fast == drf, (cls.__name__, data)


@pytest.mark.django_db
def test_a_create_builds_only_what_it_was_sent():
    """A create with 2 of its parameters binds no serializer field beyond those it runs (the
    whole set of fields is never built)."""
    from intents.api.serializers import PaymentIntentCreateSerializer  # noqa: PLC0415

    serializer = PaymentIntentCreateSerializer(data={"amount": "1000", "currency": "usd"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"amount": 1000, "currency": "usd"}
    assert "fields" not in vars(serializer)  # DRF's cached property was never computed


@pytest.mark.django_db
def test_a_nested_parameter_is_validated_and_its_errors_keep_their_path():
    from intents.api.serializers import PaymentIntentCreateSerializer  # noqa: PLC0415

    data = {"amount": "1000", "currency": "usd", "shipping": {"name": "A", "address": {"x": "1"}}}
    with pytest.raises(DomainError) as raised:
        PaymentIntentCreateSerializer(data=data).is_valid()
    assert raised.value.param == "shipping[address][x]"
    data["shipping"]["address"] = {"line1": "1 Main St"}
    serializer = PaymentIntentCreateSerializer(data=data)
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["shipping"]["address"]["line1"] == "1 Main St"

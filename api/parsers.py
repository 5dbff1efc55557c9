"""Request bodies and query strings in the Stripe dialect.

`application/x-www-form-urlencoded` with bracket notation and `application/json` parse to the
same Python data: `metadata[order]=42` → {"metadata": {"order": "42"}}, `expand[]=a&expand[]=b`
and `expand[0]=a&expand[1]=b` → {"expand": ["a", "b"]}, `card[exp_month]=12` → nested dict,
an empty value stays "" (Stripe's way of unsetting a field).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from core.errors import InvalidRequestError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class _Indexed(dict):
    """A container built from `[0]`/`[1]` keys; becomes a list when every key is an index."""


def _malformed(key: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid parameter name: {key!r} (unbalanced or misplaced brackets).",
        code="parameter_invalid_body",
        param=key,
    )


def _set(container: dict, segments: list[str], value: str, key: str) -> None:
    head, rest = segments[0], segments[1:]
    if head == "":
        # `a[]=x` appends; only valid when the parent is a list-like container.
        raise _malformed(key)
    if not rest:
        existing = container.get(head)
        if isinstance(existing, dict | list):
            raise InvalidRequestError(
                f"Parameter {key!r} is given both as a value and as a hash or array.",
                code="parameter_invalid_body",
                param=key,
            )
        container[head] = value
        return
    child = container.get(head)
    if rest[0] == "":
        if child is None:
            child = container[head] = []
        if not isinstance(child, list):
            raise _malformed(key)
        if len(rest) == 1:
            child.append(value)
        else:
            # `a[][b]=1&a[][c]=2`: start a new element when the last one already has b.
            if not child or not isinstance(child[-1], dict) or rest[1] in child[-1]:
                child.append(_Indexed())
            _set(child[-1], rest[1:], value, key)
        return
    if child is None:
        child = container[head] = _Indexed()
    if not isinstance(child, dict):
        raise InvalidRequestError(
            f"Parameter {key!r} is given both as a value and as a hash or array.",
            code="parameter_invalid_body",
            param=key,
        )
    _set(child, rest, value, key)


def _finish(value):
    if isinstance(value, _Indexed):
        finished = {k: _finish(v) for k, v in value.items()}
        if finished and all(k.isdigit() for k in finished):
            return [finished[k] for k in sorted(finished, key=int)]
        return finished
    if isinstance(value, list):
        return [_finish(v) for v in value]
    return value


def parse_pairs(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise _malformed(key)
        base, brackets = match.groups()
        segments = [base] + _SEGMENT.findall(brackets)
        _set(root, segments, value, key)
    return {k: _finish(v) for k, v in root.items()}


def parse_query_string(query: str) -> dict:
    try:
        pairs = parse_qsl(
            query,
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError as exc:
        raise InvalidRequestError(str(exc), code="parameter_invalid_body")
    return parse_pairs(pairs)


def _read_body(stream, parser_context) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if stream is None:
        return b""
    data = stream.read(limit + 1) if limit else stream.read()
    if limit and len(data) > limit:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    return data


class StripeFormParser(BaseParser):
    media_type = "application/x-www-form-urlencoded"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = _read_body(stream, parser_context)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("the form body is not valid UTF-8")
        return parse_query_string(text)


class StripeJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = _read_body(stream, parser_context)
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"malformed JSON ({exc})")
        if not isinstance(data, dict):
            raise ParseError("the JSON body must be an object")
        return data

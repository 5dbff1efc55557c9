"""Request bodies and query strings in the Stripe dialect.

`application/x-www-form-urlencoded` with bracket notation and `application/json` parse to the
same Python data: `metadata[order]=42` → {"metadata": {"order": "42"}}, `expand[]=a&expand[]=b`
and `expand[0]=a&expand[1]=b` → {"expand": ["a", "b"]}, `card[exp_month]=12` → nested dict,
an empty value stays "" (Stripe's way of unsetting a field).

Both parsers (and query strings) enforce the same input limits before any view sees the data,
each refused with a 400 `parameter_invalid_*` error naming the parameter:

- nesting deeper than MAX_DEPTH levels (`a[b][c]…`, nested JSON objects and arrays);
- an array longer than MAX_ARRAY_LENGTH, a hash with more than MAX_HASH_KEYS keys;
- a string value longer than MAX_STRING_LENGTH, a key longer than MAX_KEY_LENGTH;
- a NUL character or a lone UTF-16 surrogate anywhere (keys and values), bytes that are not
  UTF-8 (percent-encoded or raw), and JSON's NaN / Infinity;
- the same parameter given twice (`amount=1&amount=2`, a repeated JSON key): refused, never
  "last one wins". Repeating `a[]=` is how arrays are sent and stays allowed.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from core.errors import InvalidRequestError

MAX_DEPTH = 8
MAX_ARRAY_LENGTH = 100
MAX_HASH_KEYS = 200
MAX_KEY_LENGTH = 200
MAX_STRING_LENGTH = 5000
# A NUL, or a UTF-16 surrogate (only a lone one can reach a Python str from JSON's \ud800).
_FORBIDDEN_CHARS = re.compile("[\x00\ud800-\udfff]")

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
# An array index: ASCII digits (`str.isdigit` also takes superscripts and other scripts' digits).
_INDEX = re.compile(r"[0-9]{1,6}")


class _Indexed(dict):
    """A container built from `[0]`/`[1]` keys; becomes a list when every key is an index."""


def _malformed(key: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid parameter name: {key!r} (unbalanced or misplaced brackets).",
        code="parameter_invalid_body",
        param=key,
    )


def _duplicate(key: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Received the parameter {key!r} more than once. Send each parameter once (repeat "
        "`name[]=` to send an array).",
        code="parameter_invalid_body",
        param=key,
    )


def _printable(text: str) -> str:
    """`text` with NULs and lone surrogates spelled as escapes, so an error can quote it."""
    return _FORBIDDEN_CHARS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _param_name(path: tuple) -> str | None:
    if not path:
        return None
    head, *rest = path
    return _printable(str(head) + "".join(f"[{part}]" for part in rest))


def _text_error(param: str | None, what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid {what}: it contains a NUL character or an unpaired UTF-16 surrogate, which "
        "are not accepted.",
        code="parameter_invalid_string",
        param=param,
    )


def check_limits(value, path: tuple = ()) -> None:
    """Refuse data past the input limits above (depth, sizes, forbidden characters)."""
    param = _param_name(path)
    if len(path) > MAX_DEPTH + 1:
        raise InvalidRequestError(
            f"Invalid parameter {param[:200]!r}: nested more than {MAX_DEPTH} levels deep.",
            code="parameter_invalid_depth",
            param=_param_name(path[: MAX_DEPTH + 1]),
        )
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise InvalidRequestError(
                f"Invalid string: at most {MAX_STRING_LENGTH} characters are accepted "
                f"(got {len(value)}).",
                code="parameter_invalid_string_too_long",
                param=param,
            )
        if _FORBIDDEN_CHARS.search(value):
            raise _text_error(param, "string")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidRequestError(
                "Invalid number.", code="parameter_invalid_number", param=param
            )
    elif isinstance(value, list):
        if len(value) > MAX_ARRAY_LENGTH:
            raise InvalidRequestError(
                f"Invalid array: at most {MAX_ARRAY_LENGTH} items are accepted (got {len(value)}).",
                code="parameter_invalid_array",
                param=param,
            )
        for index, item in enumerate(value):
            check_limits(item, path + (index,))
    elif isinstance(value, dict):
        if len(value) > MAX_HASH_KEYS:
            raise InvalidRequestError(
                f"Invalid hash: at most {MAX_HASH_KEYS} keys are accepted (got {len(value)}).",
                code="parameter_invalid_hash",
                param=param,
            )
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH:
                raise InvalidRequestError(
                    f"Invalid parameter name: at most {MAX_KEY_LENGTH} characters.",
                    code="parameter_invalid_body",
                    param=param,
                )
            if _FORBIDDEN_CHARS.search(key):
                raise _text_error(param, "parameter name")
            check_limits(item, path + (key,))


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
        if head in container:
            raise _duplicate(key)
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


def _finish(value, name: str):
    if isinstance(value, _Indexed):
        finished = {k: _finish(v, f"{name}[{k}]") for k, v in value.items()}
        if finished and all(k.isdigit() for k in finished):
            # `a[0]=x&a[1]=y`: ASCII indices, each below the array limit (`a[99999999999]`, a
            # superscript or full-width digit is no index of this API's)
            too_far = [k for k in finished if not _INDEX.fullmatch(k) or int(k) >= MAX_ARRAY_LENGTH]
            if too_far:
                raise InvalidRequestError(
                    f"Invalid array index [{too_far[0][:20]}]: indices run from 0 to "
                    f"{MAX_ARRAY_LENGTH - 1}.",
                    code="parameter_invalid_array",
                    param=_printable(name),
                )
            return [finished[k] for k in sorted(finished, key=int)]
        return finished
    if isinstance(value, list):
        return [_finish(v, f"{name}[{i}]") for i, v in enumerate(value)]
    return value


def parse_pairs(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        if key.count("[") > MAX_DEPTH:
            raise InvalidRequestError(
                f"Invalid parameter {key[:100]!r}…: nested more than {MAX_DEPTH} levels deep.",
                code="parameter_invalid_depth",
                param=key.split("[", 1)[0][:MAX_KEY_LENGTH],
            )
        if len(key) > MAX_KEY_LENGTH * (MAX_DEPTH + 1):
            raise InvalidRequestError(
                "Invalid parameter name: too long.", code="parameter_invalid_body", param=None
            )
        match = _KEY.match(key)
        if not match:
            raise _malformed(key)
        base, brackets = match.groups()
        segments = [base] + _SEGMENT.findall(brackets)
        _set(root, segments, value, key)
    data = {k: _finish(v, k) for k, v in root.items()}
    check_limits(data)
    return data


def _decode(raw: bytes) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError(
            "Invalid request: a parameter is not valid UTF-8 once percent-decoded.",
            code="parameter_invalid_body",
        )


def split_pairs(raw: bytes) -> list[tuple[str, str]]:
    """`a=1&b=2` (bytes) → [("a", "1"), ("b", "2")], percent-decoded as strict UTF-8."""
    pairs = []
    for field in raw.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        pairs.append((_decode(name), _decode(value)))
        if len(pairs) > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
            raise InvalidRequestError(
                f"Too many parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}.",
                code="parameter_invalid_body",
            )
    return pairs


def parse_query_string(query: str | bytes) -> dict:
    """A query string (WSGI gives it as latin-1 text) or a form body, in bracket notation."""
    raw = query if isinstance(query, bytes) else query.encode("latin-1", "replace")
    return parse_pairs(split_pairs(raw))


def _read_body(stream, parser_context) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if stream is None:
        return b""
    data = stream.read(limit + 1) if limit else stream.read()
    if limit and len(data) > limit:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    return data


# The charsets a body may declare: both parsers read UTF-8 (of which ASCII is a part) and
# nothing else, so a body declared in another is refused rather than misread.
_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}


def _check_charset(media_type: str | None) -> None:
    for param in (media_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _CHARSETS:
            raise InvalidRequestError(
                f"Unsupported charset {value.strip()[:40]!r} in the Content-Type: send the body "
                "as UTF-8 (charset=utf-8, or no charset).",
                code="parameter_invalid_body",
            )


def _check_declared(media_type: str | None, body: bytes) -> None:
    """DRF hands a body with no Content-Type to the view's first parser: it is refused, not
    read as a form (or JSON) on a guess."""
    if body and not (media_type or "").split(";")[0].strip():
        raise InvalidRequestError(
            "The request has a body but no Content-Type: send it as "
            "application/x-www-form-urlencoded or application/json.",
            code="parameter_invalid_body",
        )


class StripeFormParser(BaseParser):
    media_type = "application/x-www-form-urlencoded"

    def parse(self, stream, media_type=None, parser_context=None):
        _check_charset(media_type)
        body = _read_body(stream, parser_context)
        _check_declared(media_type, body)
        return parse_query_string(body)


class StripeJSONParser(BaseParser):
    media_type = "application/json"
    #: How a JSON number with a fraction is read (None: a float). A dialect whose amounts are
    #: decimals (Payload's `561.31`) reads them as `decimal.Decimal`, exactly.
    parse_float = None

    def parse(self, stream, media_type=None, parser_context=None):
        _check_charset(media_type)
        raw = _read_body(stream, parser_context)
        _check_declared(media_type, raw)
        if not raw:  # (no body: no parameters; white space alone is no JSON text either)
            return {}
        try:
            data = json.loads(
                raw.decode("utf-8"),
                object_pairs_hook=_unique_keys,
                parse_constant=_no_constant,
                parse_float=self.parse_float,
            )
        except RecursionError:
            raise InvalidRequestError(
                f"Invalid request body: nested more than {MAX_DEPTH} levels deep.",
                code="parameter_invalid_depth",
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"malformed JSON ({str(exc)[:200]})")
        if not isinstance(data, dict):
            raise ParseError("the JSON body must be an object")
        check_limits(data)
        return data


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _duplicate(_printable(key))
        out[key] = value
    return out


def _no_constant(name: str):
    raise InvalidRequestError(
        f"Invalid number: {name} is not accepted.", code="parameter_invalid_number"
    )

"""Test helpers: a client that speaks the Stripe dialect the way the official libraries do."""

from __future__ import annotations

import json as jsonlib
from urllib.parse import quote

from django.test import Client


def encode_form(
    data: dict, prefix: str | None = None, *, empty_hashes: bool = False
) -> list[tuple[str, str]]:
    """Bracket notation as stripe-python sends it: a[b]=…, a[0]=…, empty string for None. An
    empty hash is `a=` at the top (`metadata={}` clears), nothing deeper unless `empty_hashes`
    (`a[b]=`, how the API reads a hash with no keys at any depth)."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            if not value and (prefix is None or empty_hashes):
                pairs.append((name, ""))
            pairs.extend(encode_form(value, name, empty_hashes=empty_hashes))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    if not item and empty_hashes:
                        pairs.append((f"{name}[{index}]", ""))
                    pairs.extend(encode_form(item, f"{name}[{index}]", empty_hashes=empty_hashes))
                else:
                    pairs.append((f"{name}[{index}]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def form_text(value) -> str:
    """The text a form body carries for a scalar (None is the dialect's empty value)."""
    return _scalar(value)


def _scalar(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def encode_form_as_documented(body: dict, encoding: dict) -> list[tuple[str, str]]:
    """A form body as a client generated from docs/openapi.json writes it: by the operation's
    `encoding` (OpenAPI's rules for application/x-www-form-urlencoded). A property of style
    deepObject in brackets, an array's items keyed by their index (`encode_form`); any other in
    form style, exploded (the default): an array repeats its name, an object's keys are names."""
    pairs: list[tuple[str, str]] = []
    for name, value in body.items():
        if encoding.get(name, {}).get("style") == "deepObject":
            pairs.extend(encode_form({name: value}, empty_hashes=True))
        elif isinstance(value, list | tuple):
            pairs.extend((name, _scalar(item)) for item in value)
        elif isinstance(value, dict):
            pairs.extend((str(key), _scalar(item)) for key, item in value.items())
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def form_body(data: dict) -> str:
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in encode_form(data))


class ApiResponse:
    def __init__(self, response):
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.content

    def json(self):
        return jsonlib.loads(self.content)

    @property
    def error(self) -> dict:
        return self.json()["error"]

    def __repr__(self):
        return f"<ApiResponse {self.status_code} {self.content[:300]!r}>"


class StripeTestClient:
    """`client.post("/v1/payment_intents", {"amount": 1000}, key=sk)` — form-encoded by default."""

    def __init__(self, key: str | None = None):
        self.django = Client(raise_request_exception=False)
        self.key = key

    def _headers(self, key, headers):
        out = {}
        key = self.key if key is None else key
        if key:
            out["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        for name, value in (headers or {}).items():
            out["HTTP_" + name.upper().replace("-", "_")] = value
        return out

    def get(self, path, params: dict | None = None, *, key=None, headers=None) -> ApiResponse:
        query = form_body(params or {})
        url = f"{path}?{query}" if query else path
        return ApiResponse(self.django.get(url, **self._headers(key, headers)))

    def post(
        self, path, data: dict | None = None, *, key=None, headers=None, json=False
    ) -> ApiResponse:
        if json:
            body, content_type = jsonlib.dumps(data or {}), "application/json"
        else:
            body, content_type = form_body(data or {}), "application/x-www-form-urlencoded"
        return ApiResponse(
            self.django.generic(
                "POST", path, body, content_type=content_type, **self._headers(key, headers)
            )
        )

    def raw(
        self,
        method,
        path,
        body=b"",
        *,
        content_type="application/x-www-form-urlencoded",
        key=None,
        headers=None,
    ):
        return ApiResponse(
            self.django.generic(
                method, path, body, content_type=content_type, **self._headers(key, headers)
            )
        )

    def delete(self, path, *, key=None, headers=None) -> ApiResponse:
        return ApiResponse(self.django.delete(path, **self._headers(key, headers)))

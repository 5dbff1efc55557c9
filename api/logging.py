"""Log hygiene: no card number, CVC, API key, client secret or client token ever reaches a log
line."""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

_PATTERNS = [
    # API keys (secret, publishable, restricted), in any context.
    (
        re.compile(r"\b(sk|pk|rk)_(test|live)_[A-Za-z0-9]{8,}"),
        lambda m: f"{m.group(1)}_{m.group(2)}_…",
    ),
    # Authorization header values: Basic carries the key base64-encoded.
    (re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=_.~-]{8,}", re.I), lambda m: f"{m.group(1)} …"),
    # Client secrets (pi_…_secret_…, and any other <prefix>_…_secret_…).
    (
        re.compile(r"\b([a-z]{2,5}_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+"),
        lambda m: f"{m.group(1)}_secret_…",
    ),
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), lambda m: "whsec_…"),
    # The hosted checkout page's client tokens (stored only as a hash).
    (re.compile(r"\bctok_[A-Za-z0-9]{8,}"), lambda m: "ctok_…"),
    # Card numbers: 13–19 digits, optionally grouped by spaces or dashes.
    (re.compile(r"(?<![0-9])(?:\d[ -]?){12,18}\d(?![0-9])"), lambda m: "[card number]"),
    # CVCs as form (cvc=, card[cvc]=, card%5Bcvc%5D=), JSON ("cvc": "123") or repr ('cvc': 123).
    (
        re.compile(r"((?:cvc|cvv|cvc2|cvv2)(?:\]|%5D)?[\"']?\s*[=:]\s*[\"']?)\d{3,4}", re.I),
        lambda m: f"{m.group(1)}[cvc]",
    ),
]

# gunicorn's access log bypasses the filter below: never log the query string (client secrets
# travel there on GET) nor the Basic-auth user name (which is the API key), and the path only
# as `ScrubbingAccessLogger` rewrites it. Used by runall.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
ACCESS_LOGGER_CLASS = "api.logging.ScrubbingAccessLogger"

# A path segment logged as it is: a route word (`payment_intents`, `confirm`, `app.css`) or an object id
# (`pi_3Ab…`). Anything else — a card number, a key, a client secret, garbage — is logged as
# `{redacted}`.
_ROUTE_WORD = re.compile(r"^(?!(?:sk|pk|rk|whsec|ctok)_)[a-z][a-z0-9_.-]{0,60}$")
_OBJECT_ID = re.compile(r"^(?!(?:sk|pk|rk|whsec|ctok)_)[a-z][a-z0-9]{0,15}_[A-Za-z0-9]{1,64}$")


def scrub_path(path: str) -> str:
    """The path as the access log may write it."""
    segments = [
        segment
        if not segment or _ROUTE_WORD.match(segment) or _OBJECT_ID.match(segment)
        else "{redacted}"
        for segment in path.split("/")
    ]
    return scrub("/".join(segments))


class ScrubbingAccessLogger(GunicornLogger):
    """gunicorn's logger with every access-log atom that could carry a secret rewritten: the
    path scrubbed (`scrub_path`), the request line rebuilt from it, no query string, no user
    name, no request header. `--logger-class api.logging.ScrubbingAccessLogger`."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = scrub_path(environ.get("PATH_INFO") or "")
        atoms.update(
            U=path,
            r=f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}",
            q="-",
            u="-",
        )
        for name in [name for name in atoms if name.endswith("}i")]:
            atoms[name] = "-"
        return atoms


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not take the request down
            return True
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True

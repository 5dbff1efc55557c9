"""Where the project keeps its local files, and the one reader of the environment."""

import os
from pathlib import Path

import environ

from config.errors import ConfigurationError

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Local state: `make run`'s and the tests' in a checkout (.run/, git-ignored). Installed (`pip
# install .`: BASE_DIR is site-packages, which the service's user may not write), the working
# directory's .run/, or RUN_DIR. Production needs little there: collectstatic's output
# (STATIC_ROOT) unless that is set.
CHECKOUT = (BASE_DIR / "manage.py").is_file()
RUN_DIR = Path(
    os.environ.get("RUN_DIR") or (BASE_DIR / ".run" if CHECKOUT else Path.cwd() / ".run")
)
RUN_DIR.mkdir(parents=True, exist_ok=True)

under_pytest = "PYTEST_VERSION" in os.environ


FALSE_STRINGS = ("false", "off", "no", "n", "0", "")
EXPECTS = {
    int: "an integer",
    float: "a number",
    bool: "a boolean (1/0, true/false, yes/no, on/off)",
}


class Env(environ.Env):
    """django-environ's reader, plus two rules: a number set to the empty string (`FOO=` in an
    env file) takes its default instead of failing to parse; a value that does not parse as its
    type stops the process with a ConfigurationError naming the variable (django-environ would
    raise a bare ValueError for a number and read any unknown word as False for a boolean)."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var)
        if cast in (int, float) and default is not self.NOTSET and raw == "":
            return default
        if (
            cast is bool
            and raw is not None
            and raw.strip().lower() not in (*self.BOOLEAN_TRUE_STRINGS, *FALSE_STRINGS)
        ):
            raise ConfigurationError(var, raw, EXPECTS[bool])
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as error:
            raise ConfigurationError(var, raw or "", _expects(cast, error)) from None


def _expects(cast, error: Exception) -> str:
    """What a value of `cast` looks like, in words."""
    if isinstance(cast, list | tuple) and cast:
        return f"a comma-separated list of {EXPECTS.get(cast[0], 'values')}"
    if isinstance(cast, dict) or cast is dict:
        value_cast = cast.get("value") if isinstance(cast, dict) else None
        value = EXPECTS.get(value_cast) if isinstance(value_cast, type) else None
        return f"key=value pairs separated by ';'{f', each value {value}' if value else ''}"
    try:
        return EXPECTS.get(cast) or str(error)
    except TypeError:
        return str(error)


env = Env()

# A dev checkout keeps its generated secrets in `.env` (written by `make run`, git-ignored), so
# `manage.py createsuperuser` and friends work there exactly as the README writes them. Values
# already in the environment win. A production deployment has no `.env` and sets its own;
# `ENV_FILE` names another file, and `ENV_FILE=` (empty) reads none.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    Env.read_env(ENV_FILE, overwrite=False)


def expect(variable: str, value, ok: bool, expects: str):
    """`value` if `ok`, else a ConfigurationError naming `variable`."""
    if not ok:
        raise ConfigurationError(variable, str(value), expects)
    return value


def url_setting(variable: str, schemes: tuple[str, ...], default: str = "") -> str:
    """A URL from the environment whose scheme is one of `schemes` (empty: the default)."""
    value = env.str(variable, default="") or default
    if value:
        scheme, sep, rest = value.partition("://")
        expect(
            variable,
            value,
            bool(sep and rest) and scheme in schemes,
            f"a URL starting {' or '.join(s + '://' for s in schemes)}",
        )
    return value


def networks_setting(variable: str) -> list[str]:
    """Comma-separated CIDRs (`10.0.0.0/8,::1/128`), each checked."""
    import ipaddress  # noqa: PLC0415

    cidrs = [cidr for cidr in env.list(variable, cast=str.strip, default=[]) if cidr]
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigurationError(
                variable,
                ",".join(cidrs),
                f"comma-separated networks (CIDR, 10.0.0.0/8); {cidr!r} is not one",
            ) from None
    return cidrs

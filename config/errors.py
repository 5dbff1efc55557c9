"""How a process stops on a wrong setting: one line naming the variable, the value given and
what it expects, never a traceback (`manage.py`, the WSGI app, the Celery worker and beat)."""

import sys

from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(ImproperlyConfigured):
    """A setting's value the process cannot start with: one line naming the variable, the value
    given and what it expects (`manage.py`, the WSGI app and the Celery app print only that)."""

    def __init__(self, variable: str, value: str, expects: str):
        self.variable = variable
        shown = value if len(value) <= 60 else value[:57] + "..."
        super().__init__(f"{variable}={shown}: expects {expects}")


def startup_guard(load, exit_code: int = 2):
    """Run `load` (what reads the settings) and return what it returns; a ConfigurationError
    ends the process with its one line on stderr instead of a traceback."""
    try:
        return load()
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(exit_code) from None

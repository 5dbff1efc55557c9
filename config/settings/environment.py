"""Where the project keeps its local files, and the one reader of the environment."""

import os
from pathlib import Path

import environ

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


class Env(environ.Env):
    """django-environ's reader, plus one rule: a number set to the empty string (`FOO=` in an
    env file) takes its default instead of failing to parse."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if cast in (int, float) and default is not self.NOTSET and self.ENVIRON.get(var) == "":
            return default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = Env()

# A dev checkout keeps its generated secrets in `.env` (written by `make run`, git-ignored), so
# `manage.py createsuperuser` and friends work there exactly as the README writes them. Values
# already in the environment win. A production deployment has no `.env` and sets its own;
# `ENV_FILE` names another file, and `ENV_FILE=` (empty) reads none.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    Env.read_env(ENV_FILE, overwrite=False)

"""Where the project keeps its local files, and the one reader of the environment."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_DIR = BASE_DIR / ".run"  # local state of `make run` and the tests (git-ignored)
RUN_DIR.mkdir(exist_ok=True)

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

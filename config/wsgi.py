import os

from django.core.wsgi import get_wsgi_application

from config.errors import startup_guard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _load():
    """The WSGI app with its URL configuration imported: every view, which Django otherwise
    imports on the first request. Under gunicorn's --preload (`make run`) that is once, before
    the workers fork, instead of seconds of each worker's first request."""
    app = get_wsgi_application()
    from django.urls import get_resolver  # noqa: PLC0415 (after the settings are read)

    get_resolver().url_patterns  # noqa: B018 (a cached property: the import is the point)
    return app


# A wrong setting: one line naming it, and exit code 4, which gunicorn's arbiter takes for "the
# app cannot load" and stops on (instead of booting workers in a loop).
application = startup_guard(_load, exit_code=4)

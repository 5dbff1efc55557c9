import os

from django.core.wsgi import get_wsgi_application

from config.errors import startup_guard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A wrong setting: one line naming it, and exit code 4, which gunicorn's arbiter takes for "the
# app cannot load" and stops on (instead of booting workers in a loop).
application = startup_guard(get_wsgi_application, exit_code=4)

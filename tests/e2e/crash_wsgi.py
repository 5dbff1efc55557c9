"""The application as gunicorn serves it, for the crash tests (tests/e2e/test_crash_recovery.py)
only: two points where a test can SIGKILL the worker, each held open while a flag file exists.

- `CRASH_SLOW_PROCESSOR_FLAG`: the simulated processor has made an authorisation or a refund (and
  remembered it) but its answer is slow to come back: the kill lands during the processor call.
- `CRASH_PAUSE_BEFORE_STORE_FLAG`: a keyed request has committed its phase 2 but its answer is
  not yet stored with its Idempotency-Key: the kill lands after the commit.
"""

import os
import time
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()  # Django is set up before the imports below

from api.idempotency import IdempotencyClaim  # noqa: E402
from payments.processors.simulated import SimulatedProcessor  # noqa: E402

SLOW_PROCESSOR = Path(os.environ.get("CRASH_SLOW_PROCESSOR_FLAG", "/nonexistent"))
# touched when a slow call starts holding: with the simulator in-process, its record is not
# committed yet (the movement is one transaction), so a test cannot see it from outside
REACHED = Path(os.environ.get("CRASH_REACHED_FLAG", "/nonexistent"))
PAUSE_BEFORE_STORE = Path(os.environ.get("CRASH_PAUSE_BEFORE_STORE_FLAG", "/nonexistent"))


def _hold_while(flag: Path) -> None:
    if flag == SLOW_PROCESSOR and flag.exists():
        REACHED.touch()
    deadline = time.time() + 60
    while flag.exists() and time.time() < deadline:
        time.sleep(0.05)


_authorize = SimulatedProcessor.authorize
_refund = SimulatedProcessor.refund
_finish = IdempotencyClaim.finish


def slow_authorize(self, **kwargs):
    result = _authorize(self, **kwargs)  # the processor did it ...
    _hold_while(SLOW_PROCESSOR)  # ... and its answer is on its way back
    return result


def slow_refund(self, **kwargs):
    result = _refund(self, **kwargs)
    _hold_while(SLOW_PROCESSOR)
    return result


def finish_after_a_pause(self, response):
    _hold_while(PAUSE_BEFORE_STORE)
    return _finish(self, response)


SimulatedProcessor.authorize = slow_authorize
SimulatedProcessor.refund = slow_refund
IdempotencyClaim.finish = finish_after_a_pause

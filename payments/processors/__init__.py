"""Processors behind one interface. Test mode uses the simulated processor; live mode uses the
processor named by `settings.LIVE_PROCESSOR` (the simulator refuses test cards there)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Processor


@cache
def _load(path: str) -> Processor:
    return import_string(path)()


def get_processor(livemode: bool) -> Processor:
    path = settings.LIVE_PROCESSOR if livemode else settings.TEST_PROCESSOR
    return _load(path)

#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
    # Tasks the command handed to this process's pool (core.enqueue, `make run`'s in-process
    # webhooks) finish before the interpreter shuts down, which would refuse their follow-ups.
    enqueue = sys.modules.get("core.enqueue")  # (imported only by a command that needed it)
    if enqueue is not None:
        enqueue.drain()

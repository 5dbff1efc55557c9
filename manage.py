#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The same as `payintents <command>` (config/cli.py), which an installed deployment runs.
    from config.cli import manage

    manage(sys.argv)

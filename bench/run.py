#!/usr/bin/env python
"""`make bench`: run every benchmark script in turn, each in its own process.

Add a script by appending it to SCRIPTS. Arguments after `bench/run.py` go to every script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "api_bench.py",
    "webhook_bench.py",
    "checkout_bench.py",
    "flow_bench.py",
    "embedded_webhook_bench.py",
    "startup_bench.py",
    "callgrind_payment.py",
]


def main() -> int:
    failures = []
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / script), *sys.argv[1:]], cwd=HERE.parent)
        if code:
            failures.append(f"{script} (exit {code})")
    if failures:
        print("failed: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

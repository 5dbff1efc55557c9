#!/usr/bin/env python3
"""From a fresh clone to a served first payment: `make run` as a newcomer types it.

    python3 bench/first_run_bench.py [--runs 2] [--keep] [--ref HEAD]

Clones this repository's committed `--ref` into a temporary folder, empties every package cache
it could read from (UV_CACHE_DIR, PIP_CACHE_DIR and XDG_CACHE_HOME point into that folder), and
with no DATABASE_URL or REDIS_URL starts `make run` there in the background on a free port.
It polls the output for the demo secret key and then `POST /v1/payment_intents` (confirmed with
`pm_card_visa`) until one answers `succeeded`: the time from `make run` to that answer is the
run's number. Then SIGTERM, and it checks that everything stopped, the embedded PostgreSQL with
it. `--runs N` runs `make run` N times in the same clone: the first installs everything and
makes the database cluster; the later ones are a developer's every-day restart.

Printed: a table of each run's total and its phases, read from `make run`'s own progress lines
(venv, uv, install, database, prepare, start) by the time each first appeared; the JSON goes to
bench/results/first-run-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TIMEOUT = 600

# make run's progress lines, in order: the phase each one starts
PHASES = [
    ("venv", "payintents: creating the virtualenv"),
    ("uv", "payintents: installing the installer"),
    ("install", "payintents: installing what make run needs"),
    ("database", "payintents: creating the development database cluster"),
    ("migrate", ("payintents: applying migrations", "payintents: migrations: none to apply")),
    ("start", "payintents: starting the web server"),
    ("serving", "serving on"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pay(base: str, secret: str) -> str | None:
    body = urllib.parse.urlencode(
        {"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"}
    ).encode()
    request = urllib.request.Request(f"{base}/v1/payment_intents", data=body, method="POST")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{secret}:".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read()).get("status")
    except OSError:
        return None


def one_run(clone: Path, env: dict, label: str) -> dict:
    port = free_port()
    load_before = os.getloadavg()[0]
    lines: list[tuple[float, str]] = []
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=dict(env, PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def read() -> None:
        for line in proc.stdout:
            lines.append((time.monotonic() - started, line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    base, secret, paid_at = f"http://127.0.0.1:{port}", None, None
    try:
        while time.monotonic() - started < TIMEOUT:
            if proc.poll() is not None:
                raise RuntimeError("make run exited:\n" + "\n".join(t for _, t in lines[-40:]))
            if secret is None:
                for _, text in list(lines):
                    found = re.match(r"secret key: (sk_test_\w+)$", text)
                    if found:
                        secret = found.group(1)
            if secret and pay(base, secret) == "succeeded":
                paid_at = time.monotonic() - started
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("no payment within the timeout")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(timeout=5)
    pid_file = clone / ".run" / "postgres" / "postmaster.pid"
    deadline = time.monotonic() + 20
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    phases = {}
    for name, prefix in PHASES:
        at = next((t for t, text in lines if text.startswith(prefix)), None)
        if at is not None:
            phases[name] = round(at, 1)
    install = next((text for _, text in lines if text.startswith("payintents: installed in")), None)
    return {
        "run": label,
        "seconds_to_first_payment": round(paid_at, 1),
        "phases_started_at": phases,
        "install_line": install,
        "postgres_stopped_with_make_run": not pid_file.exists(),
        # the machine's 1-minute load average before and after: the run shares its 2 cores
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "output_lines": len(lines),
        "output": [text for _, text in lines],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (default HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="payintents-first-run-"))
    clone = work / "payintents"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", args.ref], cwd=clone, check=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "VIRTUAL_ENV",
            "PAYINTENTS_DEV",
            "MAKEFLAGS",
            "MAKELEVEL",
        )
    }
    for name in ("UV_CACHE_DIR", "PIP_CACHE_DIR", "XDG_CACHE_HOME"):
        (work / name.lower()).mkdir()
        env[name] = str(work / name.lower())
    runs = []
    try:
        for number in range(1, args.runs + 1):
            label = "first (empty caches)" if number == 1 else f"run {number}"
            runs.append(one_run(clone, env, label))
            print(f"{label}: {runs[-1]['seconds_to_first_payment']} s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"first-run-{stamp}.json"
    path.write_text(json.dumps({"ref": args.ref, "cpus": os.cpu_count(), "runs": runs}, indent=2))
    names = [name for name, _ in PHASES]
    print()
    print(
        f"{'run':<22}{'payment s':>10}  "
        + "  ".join(f"{n:>8}" for n in names)
        + "  pg stopped  load before/after"
    )
    for run in runs:
        cells = "  ".join(f"{run['phases_started_at'].get(n, '-'):>8}" for n in names)
        stopped = "yes" if run["postgres_stopped_with_make_run"] else "NO"
        load = "/".join(map(str, run["load_average"]))
        print(
            f"{run['run']:<22}{run['seconds_to_first_payment']:>10}  {cells}  {stopped:>10}  {load}"
        )
    print(f"\n(phase columns: seconds after `make run` when its line first appeared) {path}")
    if any(not run["postgres_stopped_with_make_run"] for run in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""How long a management command takes to start and finish, as an operator runs it.

    .venv/bin/python bench/startup_bench.py [--runs 7] [--importtime]

Each command runs `--runs` times as its own `manage.py` process (interleaved, so a busy moment
of a shared machine falls on all of them), on a fresh database migrated once (on DATABASE_URL's server, else the embedded PostgreSQL, which
this process starts and stops; bench/database.py), with the
file-system broker and the in-process webhooks of `make run`, and one webhook endpoint (so
`trigger` makes deliveries). It prints the median and the best wall time of each command, its
ratio to the baseline measured in the same run, and the last line any run wrote to stderr
(a clean command writes none). The baseline is `python -c "django.setup()"` with these
settings, the least any command can cost. `--importtime` also prints, for each command, the ten
modules whose import took longest (`python -X importtime`, cumulative). Writes
`bench/results/startup-<UTC time>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BASELINE = ("baseline: django.setup()", [PY, "-c", "import django; django.setup()"])
COMMANDS = [
    ("help", ["help"]),
    ("check", ["check"]),
    ("showmigrations", ["showmigrations", "--plan"]),
    ("ensure_demo_account", ["ensure_demo_account", "--quiet"]),
    ("create_account", ["create_account", "Bench", "--json"]),
    ("trigger customer.created", ["trigger", "customer.created"]),
    ("trigger payment_intent.succeeded", ["trigger", "payment_intent.succeeded"]),
    ("listen --print-secret", ["listen", "--print-secret"]),
]


def environment(folder: Path, database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_VERSION")
    }
    env.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        BROKER_DIR=str(folder / "broker"),
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """The wall time of one run, and the last line it wrote to stderr ("" if none)."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    lines = done.stderr.strip().splitlines()
    return took, lines[-1] if lines else ""


def slowest_imports(argv: list[str], env: dict[str, str], count: int = 10) -> list[str]:
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], cwd=ROOT, env=env, capture_output=True, text=True
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if len(name) - len(name.lstrip()) <= 1:  # imported by the program, not by a module
            rows.append((int(cumulative), name.strip()))
    rows.sort(reverse=True)
    return [f"{name} {us / 1000:.0f} ms" for us, name in rows[:count]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", action="store_true")
    args, _ = parser.parse_known_args()  # (bench/run.py passes every script the same arguments)

    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        sys.path.insert(0, str(ROOT))
        from bench.database import bench_database_url, drop_bench_database

        database_url, fresh = bench_database_url("startup")
        env = environment(Path(tmp), database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        account = json.loads(manage(env, "create_account", "Demo merchant", "--json").stdout)
        manage(
            env,
            "shell",
            "-c",
            "from core.scope import Scope; from events.services import webhook_endpoint_create; "
            f"webhook_endpoint_create(scope=Scope({account['id']!r}, False), "
            "url='http://127.0.0.1:9/hook', enabled_events=['*'])",
        )
        argvs = [BASELINE] + [(name, [PY, "manage.py", *command]) for name, command in COMMANDS]
        times: dict[str, list[float]] = {name: [] for name, _ in argvs}
        complaints: dict[str, str] = {}
        for _ in range(args.runs):
            for name, argv in argvs:
                took, complaint = timed(argv, env)
                times[name].append(took)
                if complaint:
                    complaints[name] = complaint
        base = statistics.median(times[BASELINE[0]])
        results = {
            name: {
                "median_s": round(statistics.median(runs), 3),
                "best_s": round(min(runs), 3),
                "ratio": round(statistics.median(runs) / base, 2),
                "stderr": complaints.get(name, ""),
            }
            for name, runs in times.items()
        }
        print(f"{'command':36} {'median s':>9} {'best s':>7} {'× setup':>8}  stderr")
        for name, row in results.items():
            print(
                f"{name:36} {row['median_s']:9.2f} {row['best_s']:7.2f} {row['ratio']:8.2f}  "
                f"{row['stderr'][:60]}"
            )
        if args.importtime:
            for name, argv in argvs[1:]:
                results[name]["slowest_imports"] = slowest_imports(argv, env)
                print(f"\n{name}: " + ", ".join(results[name]["slowest_imports"]))
        drop_bench_database(database_url, fresh)

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"startup-{stamp}.json").write_text(json.dumps({"runs": args.runs, **results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

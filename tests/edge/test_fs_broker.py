"""The file-system broker (`make run` with no Redis) never hands a worker a half-written
message: a worker polling the folder while a message is being written finds nothing (and the
message whole afterwards), instead of reading an empty file and dying on its JSON."""

from __future__ import annotations

import os
import subprocess
import sys
from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import filesystem

from config.fs_broker import Transport


@pytest.fixture
def channel(tmp_path):
    for sub in ("in", "processed", "control"):
        (tmp_path / sub).mkdir()
    connection = Connection(
        "filesystem://localhost//",
        transport=Transport,
        transport_options={
            "data_folder_in": str(tmp_path / "in"),
            "data_folder_out": str(tmp_path / "in"),
            "processed_folder": str(tmp_path / "processed"),
            "control_folder": str(tmp_path / "control"),
            "store_processed": False,
        },
    )
    channel = connection.channel()
    yield channel
    connection.release()


def test_a_worker_polling_while_a_message_is_written_never_reads_half_of_it(channel, monkeypatch):
    seen_while_writing = []
    encode = filesystem.dumps

    def dumps_while_a_worker_polls(payload):
        # a worker's poll at the moment the message is being written
        try:
            seen_while_writing.append(channel._get("celery"))
        except Empty:
            seen_while_writing.append(None)
        return encode(payload)

    monkeypatch.setattr(filesystem, "dumps", dumps_while_a_worker_polls)
    channel._put("celery", {"body": "x" * 100_000, "n": 1})
    monkeypatch.setattr(filesystem, "dumps", encode)
    assert seen_while_writing == [None]
    assert channel._get("celery") == {"body": "x" * 100_000, "n": 1}


def test_make_runs_broker_without_redis_is_this_transport(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        PAYINTENTS_DEV="1", BROKER_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings"
    )
    env.pop("PYTEST_VERSION", None)
    script = (
        "import django; django.setup(); from config.celery import app; "
        "t = app.connection_for_write().transport; print(type(t).__module__, type(t).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["config.fs_broker", "Transport"]

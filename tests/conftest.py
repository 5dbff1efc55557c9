from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection

from config.celery import QUEUES, worker_argv
from tests.helpers import StripeTestClient

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = bool(os.environ.get("CI") or os.environ.get("PAYINTENTS_REQUIRE_SERVICES"))


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ).close()
        return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The console's operators log in with passwords: PBKDF2's deliberate slowness (a fifth of
    a second a hash here) is for production, not for the tests that make a user each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    """The modules marked `long(seconds)` run first, the longest first: pytest-xdist hands out
    modules in the order they were collected, and one of the longest handed out last kept one
    worker busy while the others had finished. The seconds are what the module took in a
    whole run here (four workers on two cores), for this order only.

    Tests that need Redis skip on a laptop with neither REDIS_URL nor a `redis-server` to
    start (tests/services.py), and fail in CI. PostgreSQL is always there: DATABASE_URL's, or
    the embedded server the settings start (config/embedded_db.py)."""

    def seconds(item) -> float:
        marker = item.get_closest_marker("long")
        return marker.args[0] if marker else 0

    items.sort(key=seconds, reverse=True)
    redis_url = os.environ.get("REDIS_URL", "")
    on_redis = bool(redis_url) and _reachable(redis_url, 6379)
    for item in items:
        if "redis" in item.keywords and not on_redis:
            if REQUIRE_SERVICES:
                raise pytest.UsageError(
                    f"CI requires Redis: REDIS_URL={redis_url!r} is not reachable"
                )
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://…"))


#: Rows every test reads and none writes: left in place between transactional tests.
_KEPT_TABLES = {"django_content_type", "auth_permission"}


def fast_flush(using: str = "default") -> None:
    """Empty every table but the content types and permissions, as Django's `flush` does after
    a transactional test, with one DELETE per table in one transaction instead of TRUNCATE and
    the post_migrate signal: on tables of a few rows, TRUNCATE's new files per table and index
    and the content types and permissions written again cost 0.4 s a test; this costs 0.02 s.
    The foreign keys Django makes are deferred, so the order of the tables does not matter."""
    from django.db import connections, transaction

    conn = connections[using]
    tables = [
        table
        for table in conn.introspection.django_table_names(only_existing=True, include_views=False)
        if table not in _KEPT_TABLES
    ]
    with transaction.atomic(using=using), conn.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables:
            cursor.execute(f"DELETE FROM {conn.ops.quote_name(table)}")


@pytest.fixture(scope="session", autouse=True)
def _fast_flush_after_transactional_tests():
    """Django's TransactionTestCase (pytest-django's `transactional_db`, `live_server`) empties
    the database after each test with `fast_flush`, unless the test asks for more than that
    (serialized rollback, sequences reset, a subset of apps)."""
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        if self.serialized_rollback or self.reset_sequences or self.available_apps is not None:
            return original(self)
        for name in self._databases_names(include_mirrors=False):
            fast_flush(name)
        return None

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original


def committed_for_module(django_db_blocker, build):
    """For a module-scoped fixture whose rows every test of the module reads and none needs
    fresh: `yield from committed_for_module(django_db_blocker, build)` runs `build()` once,
    committed, yields what it returned, and empties the database after the module. The tests
    take `db`, so each runs in a transaction rolled back after it and finds the rows as built,
    whatever the one before it wrote. Not for a module with transactional tests: their flush
    would empty the rows under the others."""
    with django_db_blocker.unblock():
        value = build()
    try:
        yield value
    finally:
        with django_db_blocker.unblock():
            fast_flush()


@dataclass
class AccountKeys:
    account: object
    sk: str
    pk: str
    sk_live: str
    pk_live: str

    @property
    def id(self) -> str:
        return self.account.id


def make_account(name: str = "Acme") -> AccountKeys:
    from accounts.services import account_create

    account, keys = account_create(name=name, live=True)
    return AccountKeys(
        account=account,
        sk=keys["secret_key_test"],
        pk=keys["publishable_key_test"],
        sk_live=keys["secret_key_live"],
        pk_live=keys["publishable_key_live"],
    )


@pytest.fixture(params=["one_transaction", "two_phases"])
def processor_mode(request, settings) -> str:
    """Both ways a money movement runs (`payments.attempts.run`): the simulator answering
    in-process, the call and phase 2 inside phase 1's transaction (the default), and the
    simulator acting as a remote processor, two phases around the call (the path a real
    processor takes). A test module that moves money uses it for every test:
    `pytestmark = pytest.mark.usefixtures("processor_mode")`."""
    settings.SIMULATED_PROCESSOR_IN_PROCESS = request.param == "one_transaction"
    return request.param


@pytest.fixture
def acct(db) -> AccountKeys:
    return make_account("Acme")


@pytest.fixture
def other_acct(db) -> AccountKeys:
    return make_account("Other Corp")


@pytest.fixture
def client(acct) -> StripeTestClient:
    """A client authenticated with the first account's test secret key."""
    return StripeTestClient(key=acct.sk)


@pytest.fixture
def anon_client() -> StripeTestClient:
    return StripeTestClient(key="")


# --- a real Celery worker on Redis --------------------------------------------------------


def database_url(name: str) -> str:
    """The URL of database `name` on the tests' PostgreSQL server."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def database_url_for_current_test_db() -> str:
    """The URL of the database the tests are using (pytest-django's test_… database)."""
    return database_url(connection.settings_dict["NAME"])


class ScratchDatabase:
    """A database of its own on the tests' PostgreSQL server, for a process a test starts as a
    developer would (`manage.py runall`, `listen`, a second instance of the service):
    `payintents_scratch_<random>`, dropped (with whatever is still connected) by `drop()`.
    `create()` makes it empty; `create(migrated=True)` copies the database migrated once per run
    (`CREATE DATABASE … TEMPLATE`, a fraction of a second instead of a `migrate`). `name` gives
    the database a name of the caller's instead (the run's template)."""

    def __init__(self, prefix: str = "scratch", *, name: str | None = None):
        db = connection.settings_dict
        self.name = name or f"payintents_{prefix}_{secrets.token_hex(6)}"
        self.url = database_url(self.name)
        self._server = {
            "host": db.get("HOST") or "127.0.0.1",
            "port": int(db.get("PORT") or 5432),
            "user": db.get("USER") or "postgres",
            "password": db.get("PASSWORD") or None,
            "dbname": "postgres",
        }

    def _execute(self, statement) -> None:
        import psycopg

        with psycopg.connect(**self._server, autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def create(self, *, migrated: bool = False) -> ScratchDatabase:
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
        if migrated:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(_migrated_template()))
        self._execute(statement)
        return self

    def drop(self) -> None:
        from psycopg import sql

        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
        )


#: One run of the suite: set by the main process before pytest-xdist starts its workers, which
#: inherit it, so they share what is made once per run (the migrated template below).
RUN_ID = os.environ.setdefault("PAYINTENTS_TEST_RUN", secrets.token_hex(6))
_TEMPLATE = f"payintents_template_{RUN_ID}"


def _template_exists() -> bool:
    import psycopg

    with psycopg.connect(
        **ScratchDatabase(name=_TEMPLATE)._server, autocommit=True, connect_timeout=10
    ) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_TEMPLATE]).fetchone()
        )


def _migrated_template() -> str:
    """The database migrated once per run of the suite (by `manage.py migrate` in a process of
    its own, as a deployment migrates) that every test database and migrated scratch database is
    copied from (`CREATE DATABASE … TEMPLATE`, a fraction of a second instead of a migration per
    pytest-xdist worker); nothing connects to it after, as a template must be. The main process
    starts making it as the workers start (`pytest_configure`), under a file lock the workers
    wait on (without workers the first test to ask makes it); the main process drops it at the
    end (`pytest_unconfigure`)."""
    import sys

    lock_path = ROOT / ".run" / f"template-{RUN_ID}.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _template_exists():
            template = ScratchDatabase(name=_TEMPLATE).create()
            env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
            env.update(DATABASE_URL=template.url, PAYINTENTS_DEV="1")
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
    return _TEMPLATE


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """In the main process of a run with pytest-xdist workers, before they start, the run's
    migrated template is begun in the background (`_migrated_template`, in a thread that waits
    on `manage.py migrate`): it is made while the workers start and collect, instead of by the
    first worker while the others wait on its lock with a core idle."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    if config.option.collectonly:
        return
    import threading

    threading.Thread(target=_migrated_template, name="test-template", daemon=True).start()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Each worker's test database is a copy of the run's migrated template (its `migrate` then
    finds nothing to do), instead of every worker migrating from nothing."""
    from django.conf import settings

    settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = _migrated_template()


def pytest_unconfigure(config):
    """The main process (not a pytest-xdist worker) drops the run's template when it was made."""
    if hasattr(config, "workerinput"):
        return
    try:
        from django.db import connection  # noqa: F401  (Django is set up in this process)

        if _template_exists():
            ScratchDatabase(name=_TEMPLATE).drop()
    except Exception as exc:  # never hide the run's own result behind the clean-up's
        print(f"could not drop the test template {_TEMPLATE}: {exc}")
    (ROOT / ".run" / f"template-{RUN_ID}.lock").unlink(missing_ok=True)


@pytest.fixture
def scratch_database():
    """A fresh, empty database (ScratchDatabase) for the test, dropped afterwards."""
    database = ScratchDatabase().create()
    yield database
    database.drop()


@pytest.fixture
def migrated_scratch_database():
    """A fresh, migrated database (ScratchDatabase, copied from the template) for the test,
    dropped afterwards."""
    database = ScratchDatabase().create(migrated=True)
    yield database
    database.drop()


class WorkerProcess:
    def __init__(
        self,
        *,
        broker_url: str,
        queues: tuple[str, ...] = QUEUES,
        concurrency: int = 2,
        beat: bool = False,
        extra_env: dict | None = None,
    ):
        self.broker_url = broker_url
        self.queues = queues
        self.concurrency = concurrency
        self.beat = beat
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = ROOT / ".run" / f"worker-{os.getpid()}-{time.time_ns()}.log"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            PAYINTENTS_DEV="1",
            DATABASE_URL=database_url_for_current_test_db(),
            CELERY_BROKER_URL=self.broker_url,
            REDIS_URL=self.broker_url,
            DJANGO_SETTINGS_MODULE="config.settings",
            # A test that kill -9s a worker with its beat and starts another waits out the dead
            # beat's lease (cluster.beat) before the new one sends sweeps: 2 s, not 30.
            BEAT_LEASE_SECONDS="2",
        )
        env.pop("PYTEST_VERSION", None)
        env.update(self.extra_env)
        return env

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(exist_ok=True)
        cmd = worker_argv(
            queues=self.queues,
            concurrency=self.concurrency,
            gossip=False,
            mingle=False,
            hostname=f"test-{time.time_ns()}@%h",
            beat_schedule=ROOT / ".run" / f"beat-{time.time_ns()}" if self.beat else None,
        )
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # a worker is ready in a few seconds; a loaded 2-core box has been seen to take 30+
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.2)
        # never leave it running: it would hold the test database past the session
        log = self.log()
        self.kill()
        raise RuntimeError(f"worker did not become ready:\n{log}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = 9) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        """The test is done with the worker: its process group is killed at once. A warm
        shutdown waited for the beat and the webhook sender threads, 2 to 3 s a test, and no
        test reads how a worker ends (tests/e2e/test_runall.py stops one gracefully)."""
        self.kill()
        if getattr(self, "_log", None):
            self._log.close()


def point_app_at(url: str, settings) -> None:
    """Make this process publish to `url` (drops the connection pools built for another: kombu
    keeps one pool per broker URL in a process-wide registry, and the app its own, so an app
    that published to one Redis database before keeps publishing there otherwise)."""
    from kombu import pools

    from config.celery import app

    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    pools.reset()
    app._pool = None
    try:
        app.amqp._producer_pool = None
    except AttributeError:
        pass


def redis_url() -> str:
    """The tests' Redis: REDIS_URL's database, or — under pytest-xdist, where workers run at
    once and each flushes the broker it uses — one database of its own per worker (gw0 the
    next one after REDIS_URL's, gw1 the one after)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    base, _, db = url.rpartition("/")
    if worker.startswith("gw") and db.isdigit():
        url = f"{base}/{int(db) + 1 + int(worker[2:])}"
    return url


@pytest.fixture
def celery_worker(transactional_db, settings):
    """A real Celery worker process (and beat with `celery_worker.beat`), on Redis, sharing the
    test database. Tasks enqueued by the test process reach it through the real broker."""
    from config.celery import app

    url = redis_url()
    point_app_at(url, settings)
    # a clean queue: nothing from a previous test reaches this worker
    import redis

    redis.Redis.from_url(url).flushdb()
    worker = WorkerProcess(broker_url=url).start()
    yield worker
    worker.stop()
    app.conf.broker_url = settings.CELERY_BROKER_URL


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


REQUIRE_BROWSER = bool(os.environ.get("PAYINTENTS_REQUIRE_BROWSER"))
SCREENSHOTS = ROOT / "docs" / "img"


class _Chromium:
    """One headless Chromium per test process, started when a test first asks (starting one
    costs seconds; the suite has dozens of browser tests); after each test it opens a fresh tab
    and clears cookies and cache, or starts again if that fails (a test left it unusable).

    Debian's `chromium-headless-shell` when it is installed: the same Blink and V8 without the
    full browser around them, half the CPU of `chromium --headless=new` for the same pages
    (75 s against 149 s over the suite, which keeps both cores busy); else `chromium`."""

    def __init__(self, chromium: str, driver_path: str):
        self.chromium, self.driver_path, self.driver = chromium, driver_path, None

    def get(self):
        if self.driver is None:
            from selenium import webdriver

            options = webdriver.ChromeOptions()
            options.binary_location = self.chromium
            shell = Path(self.chromium).name == "chromium-headless-shell"  # always headless
            for arg in (
                *(() if shell else ("--headless=new",)),
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
            ):
                options.add_argument(arg)
            # the console's messages (`driver.get_log("browser")`): a page's CSP violations
            options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
            self.driver = webdriver.Chrome(
                options=options, service=webdriver.ChromeService(self.driver_path)
            )
            self.driver.set_page_load_timeout(30)
        return self.driver

    def reset(self) -> None:
        driver = self.driver
        if driver is None:
            return
        try:
            old = driver.window_handles
            driver.switch_to.new_window("tab")
            fresh = driver.current_window_handle
            for handle in old:
                driver.switch_to.window(handle)
                driver.close()
            driver.switch_to.window(fresh)
            driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.set_window_size(1280, 900)
            driver.get_log("browser")  # emptied: the next test reads only its own messages
        except Exception:
            self.quit()

    def quit(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None


@pytest.fixture(scope="session")
def _chromium():
    # Debian's /usr/bin/chromium-headless-shell is a script that starts the binary without
    # `exec`: chromedriver's quit would stop the script and leave the shell running
    shell = Path("/usr/lib/chromium/chromium-headless-shell")
    chromium = (
        (str(shell) if os.access(shell, os.X_OK) else None)
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        message = (
            "needs Debian's chromium-driver and chromium-headless-shell (or chromium): "
            "apt-get install chromium-driver chromium-headless-shell"
        )
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    holder = _Chromium(chromium, driver_path)
    yield holder
    holder.quit()


@pytest.fixture
def browser(_chromium):
    """Headless Debian Chromium driven by selenium through chromedriver, as a new browser: a
    fresh tab (its own session storage), no cookies or cache from an earlier test (the pages
    keep nothing in local storage), a window of 1280×900, an empty console log. One Chromium
    serves every test of a process (`_Chromium`). Skips on a laptop without them; `.ci/run`
    installs both and sets PAYINTENTS_REQUIRE_BROWSER, so CI fails instead of skipping."""
    yield _chromium.get()
    _chromium.reset()


def csp_violations(driver) -> list[str]:
    """What the browser refused under the page's Content-Security-Policy since the last call
    (a blocked inline style or script, a form sent or redirected where `form-action` forbids),
    read from its console log (which this call empties)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def save_screenshot(driver, name: str) -> Path:
    """Save what the browser shows to docs/img/<name>.png, where the docs link it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


@pytest.fixture(autouse=True)
def _fresh_broker_backoff():
    """A broker failure in one test must not make the next one skip its publishes."""
    from core.enqueue import backoff

    backoff.reset()
    yield
    backoff.reset()


@pytest.fixture(autouse=True)
def _relay_hints_at_once(settings):
    """Every transaction's relay hint published at its commit, so a test can assert on it at
    once (tests/events/test_dispatch.py covers the coalescing window itself)."""
    settings.WEBHOOK_RELAY_HINT_SECONDS = 0

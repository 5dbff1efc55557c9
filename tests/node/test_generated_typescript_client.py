"""A TypeScript client generated from the committed docs/openapi.json — types by
openapi-typescript, requests by openapi-fetch, both pinned in package.json — type-checks (tsc
--strict) and drives a payment against a live server, giving `currency` as a `string` and
`metadata` as a plain object (`sdk/flow.ts`). With `currency` an enum in the schema, as it was,
the flow does not compile.

Needs Node.js and npm: skipped without them, except where PAYINTENTS_REQUIRE_NODE is set (CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import make_account

from .test_stripe_node import HERE, node_modules  # noqa: F401 (the fixture)

SCHEMA = HERE.parents[1] / "docs" / "openapi.json"

pytestmark = pytest.mark.django_db(transaction=True)


def _run(argv: list[str], cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def compiled(node_modules, tmp_path_factory):  # noqa: F811
    """The flow compiled against types generated from the committed schema, in a folder of
    its own (the pinned packages linked in)."""
    out = tmp_path_factory.mktemp("ts-sdk")
    for name in ("flow.ts", "tsconfig.json"):
        shutil.copy(HERE / "sdk" / name, out / name)
    (out / "package.json").write_text('{"type": "module"}')
    (out / "node_modules").symlink_to(HERE / "node_modules")
    bin_ = HERE / "node_modules" / ".bin"
    generated = _run([str(bin_ / "openapi-typescript"), str(SCHEMA), "-o", "payintents.d.ts"], out)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    checked = _run([str(bin_ / "tsc"), "-p", "tsconfig.json"], out)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the type errors, if any
    return node_modules, out


def test_the_typescript_client_pays_with_plain_strings_and_objects(compiled, live_server):
    node, out = compiled
    keys = make_account("TS Co")
    env = {**os.environ, "PAYINTENTS_URL": live_server.url, "PAYINTENTS_SECRET_KEY": keys.sk}
    for currency in ("usd", "jpy"):
        result = _run([node, "flow.js"], out, env={**env, "PAYINTENTS_CURRENCY": currency})
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert lines == [
            f"ok create {currency}",
            "ok capture 1500",
            'ok update {"channel":"web"}',
            "ok refused parameter_invalid_string",
            "flow complete",
        ], result.stdout + result.stderr

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Account, ApiKey
from accounts.selectors import api_key_for_raw

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_account_prints_its_test_keys_as_json():
    data = json.loads(run("create_account", "Acme", "--json"))
    assert data["id"].startswith("acct_")
    assert data["secret_key"].startswith("sk_test_")
    assert data["publishable_key"].startswith("pk_test_")
    assert Account.objects.get(id=data["id"]).name == "Acme"
    assert api_key_for_raw(data["secret_key"]).account_id == data["id"]
    assert "live_secret_key" not in data


def test_create_account_with_live_adds_live_keys():
    data = json.loads(run("create_account", "Acme", "--json", "--live"))
    assert data["live_secret_key"].startswith("sk_live_")
    assert data["live_publishable_key"].startswith("pk_live_")
    assert api_key_for_raw(data["live_secret_key"]).livemode is True


def test_roll_key_issues_new_keys_and_revokes_the_old_ones():
    old = json.loads(run("create_account", "Acme", "--json"))
    new = json.loads(run("roll_key", old["id"], "--json"))
    assert new["secret_key"] != old["secret_key"]
    assert api_key_for_raw(old["secret_key"]).is_active is False
    assert api_key_for_raw(old["publishable_key"]).is_active is False
    assert api_key_for_raw(new["secret_key"]).is_active is True


def test_roll_key_for_an_unknown_account_fails_cleanly():
    with pytest.raises(CommandError):
        run("roll_key", "acct_missing", "--json")


def test_ensure_demo_account_is_stable_across_runs(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    first = run("ensure_demo_account")
    second = run("ensure_demo_account")
    assert first == second
    lines = dict(line.split(": ", 1) for line in first.strip().splitlines())
    assert lines["secret key"].startswith("sk_test_")
    assert lines["publishable key"].startswith("pk_test_")
    assert ApiKey.objects.filter(account_id=lines["account"], revoked_at__isnull=True).count() == 2


def test_ensure_demo_account_reissues_keys_when_the_saved_ones_stop_working(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    first = dict(line.split(": ", 1) for line in run("ensure_demo_account").strip().splitlines())
    ApiKey.objects.all().delete()
    second = dict(line.split(": ", 1) for line in run("ensure_demo_account").strip().splitlines())
    assert second["secret key"] != first["secret key"]
    assert api_key_for_raw(second["secret key"]) is not None


def test_ensure_demo_account_never_revokes_a_key_an_operator_rolled(settings, tmp_path):
    """An operator rolls the demo keys (the console's "Roll keys", `roll_key`) and copies the new
    secret; the next `make run` must leave it working, and issue its own pair beside it."""
    from accounts.services import api_keys_roll

    settings.BASE_DIR = tmp_path
    first = dict(line.split(": ", 1) for line in run("ensure_demo_account").strip().splitlines())
    account = api_key_for_raw(first["secret key"]).account
    rolled = api_keys_roll(account=account, livemode=False)
    again = dict(line.split(": ", 1) for line in run("ensure_demo_account").strip().splitlines())
    operator_key = api_key_for_raw(rolled["secret_key_test"])
    assert operator_key.is_active and operator_key.revoked_at is None
    assert api_key_for_raw(rolled["publishable_key_test"]).is_active
    # make run prints working keys of its own, not the operator's, and the old ones stay revoked
    assert again["secret key"] not in (first["secret key"], rolled["secret_key_test"])
    assert api_key_for_raw(again["secret key"]).is_active
    assert not api_key_for_raw(first["secret key"]).is_active
    # and a restart after that changes nothing
    assert run("ensure_demo_account") == run("ensure_demo_account")
    assert ApiKey.objects.filter(account=account, revoked_at__isnull=True).count() == 4

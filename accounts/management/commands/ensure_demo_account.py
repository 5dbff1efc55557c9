"""For `make run`: make sure a demo account exists and print its test keys.

The database keeps only hashes, so the raw demo keys are kept for the developer in
`.run/demo-keys.json` (mode 600, git-ignored; `demo-keys-<database>.json` for a database not
named `payintents`, so a test's or a second checkout's database never takes another's). When that file is missing or its keys no longer
work (the database was reset, an operator rolled or revoked them in the console), a new pair is
issued beside whatever keys the account has: this command never revokes a key, so the key an
operator rolled and copied keeps working across restarts of `make run`.
"""

import json
import os
from pathlib import Path

from django.conf import settings

from accounts.selectors import DEMO_ACCOUNT_NAME, api_key_for_raw, demo_account
from accounts.services import account_create, api_keys_issue
from core.commands import QuickCommand

DEMO_NAME = DEMO_ACCOUNT_NAME


def keys_path() -> Path:
    """Where the demo keys of this database are kept for the developer."""
    name = settings.DATABASES["default"]["NAME"]
    suffix = "" if name == "payintents" else f"-{name}"
    return Path(settings.BASE_DIR) / ".run" / f"demo-keys{suffix}.json"


class Command(QuickCommand):
    help = "Ensure the demo account exists and print its test keys."

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet", action="store_true", help="print nothing (`runall` prints the keys)"
        )

    def handle(self, *args, quiet=False, **options):
        path = keys_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = None
        if path.exists():
            try:
                saved = json.loads(path.read_text())
                secret = api_key_for_raw(saved["secret_key"])
                publishable = api_key_for_raw(saved["publishable_key"])
                if secret and publishable and secret.is_active and publishable.is_active:
                    keys = saved
            except (ValueError, KeyError):
                keys = None
        if keys is None:
            account = demo_account()
            if account is None:
                account, raw = account_create(name=DEMO_NAME)
            else:
                raw = api_keys_issue(account=account, livemode=False)
            keys = {
                "account": account.id,
                "secret_key": raw["secret_key_test"],
                "publishable_key": raw["publishable_key_test"],
            }
            path.write_text(json.dumps(keys))
            os.chmod(path, 0o600)
        if quiet:
            return
        self.stdout.write(f"account: {keys['account']}")
        self.stdout.write(f"secret key: {keys['secret_key']}")
        self.stdout.write(f"publishable key: {keys['publishable_key']}")

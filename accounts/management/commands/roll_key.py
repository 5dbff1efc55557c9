import json

from django.core.management.base import CommandError

from accounts.models import Account
from accounts.services import api_keys_roll
from core.commands import QuickCommand


class Command(QuickCommand):
    help = "Issue new API keys for an account and revoke the old ones of the same mode at once."

    def add_arguments(self, parser):
        parser.add_argument("account_id")
        parser.add_argument("--live", action="store_true", help="roll only the live keys")
        parser.add_argument("--test", action="store_true", help="roll only the test keys")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, account_id, live, test, **options):
        account = Account.objects.filter(id=account_id).first()
        if account is None:
            raise CommandError(f"No such account: {account_id}")
        mode = True if live and not test else False if test and not live else None
        keys = api_keys_roll(account=account, livemode=mode)
        out = {"id": account.id}
        if "secret_key_test" in keys:
            out["secret_key"] = keys["secret_key_test"]
            out["publishable_key"] = keys["publishable_key_test"]
        if "secret_key_live" in keys:
            out["live_secret_key"] = keys["secret_key_live"]
            out["live_publishable_key"] = keys["publishable_key_live"]
        if options["json"]:
            self.stdout.write(json.dumps(out))
        else:
            for label, value in out.items():
                self.stdout.write(f"{label.replace('_', ' ')}: {value}")

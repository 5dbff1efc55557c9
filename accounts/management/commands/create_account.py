import json

from accounts.services import account_create
from core.commands import QuickCommand


class Command(QuickCommand):
    help = "Create a merchant account and print its API keys (shown once; only hashes are stored)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--live", action="store_true", help="also issue live-mode keys")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, name, live, json: bool = False, **options):
        account, keys = account_create(name=name, live=live)
        out = {
            "id": account.id,
            "secret_key": keys["secret_key_test"],
            "publishable_key": keys["publishable_key_test"],
        }
        if live:
            out["live_secret_key"] = keys["secret_key_live"]
            out["live_publishable_key"] = keys["publishable_key_live"]
        if json:
            self.stdout.write(_json(out))
        else:
            for label, value in out.items():
                self.stdout.write(f"{label.replace('_', ' ')}: {value}")


def _json(value) -> str:
    return json.dumps(value)

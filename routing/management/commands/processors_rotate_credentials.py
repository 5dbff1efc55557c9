"""Re-encrypt every stored processor credential with the newest key of
PROCESSOR_CREDENTIAL_KEYS (after a new key was put first); then the old key may be removed."""

from django.db import transaction

from core import crypto
from core.commands import QuickCommand
from routing.models import ProcessorConnection


class Command(QuickCommand):
    help = "Re-encrypt processor credentials with the newest PROCESSOR_CREDENTIAL_KEYS key."

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            rows = ProcessorConnection.objects.select_for_update().exclude(api_key_encrypted="")
            for connection in rows:
                connection.api_key_encrypted = crypto.rotate(connection.api_key_encrypted)
                connection.save()
                rotated += 1
        self.stdout.write(f"re-encrypted {rotated} credential(s)")

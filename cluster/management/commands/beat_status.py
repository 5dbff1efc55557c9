"""`payintents beat_status`: which beat leads, and until when its lease runs."""

import json as _json

from django.core.management.base import BaseCommand

from cluster.selectors import beat_lease_get


class Command(BaseCommand):
    help = "Print the leading beat (host and pid) and when its lease ends; exit 1 if none leads."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="One JSON object.")

    def handle(self, *args, json: bool = False, **options):
        found = beat_lease_get()
        lease, held = found if found else (None, False)
        if json:
            self.stdout.write(
                _json.dumps(
                    {
                        "leading": held,
                        "host": lease.host if lease else None,
                        "pid": lease.pid if lease else None,
                        "since": lease.acquired_at.isoformat() if lease else None,
                        "lease_ends": lease.expires_at.isoformat() if lease else None,
                    }
                )
            )
        elif lease is None:
            self.stdout.write("no beat has ever led")
        elif held:
            self.stdout.write(
                f"leader: {lease.host} pid {lease.pid}, leading since "
                f"{lease.acquired_at.isoformat()}, lease ends {lease.expires_at.isoformat()}"
            )
        else:
            self.stdout.write(
                f"no leader: the last one ({lease.host} pid {lease.pid}) lease ended "
                f"{lease.expires_at.isoformat()}"
            )
        if not held:
            raise SystemExit(1)

"""`manage.py checkouts_rollup [--rebuild]`: count the closed checkouts not yet in the insights
rollup now (what the beat sweep does every CHECKOUT_ROLLUP_SECONDS), or rebuild the rollup
from every row (after a bulk load, or a change of CHECKOUT_INACTIVE_SECONDS or
CHECKOUT_ABANDONED_SECONDS). PostgreSQL only; elsewhere it does nothing."""

from checkouts import rollup
from checkouts.services import checkouts_roll_up
from core.commands import QuickCommand


class Command(QuickCommand):
    help = "Count closed checkouts in the insights rollup (--rebuild: from scratch)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Rebuild from every row.")

    def handle(self, *args, rebuild: bool = False, **options):
        counted = rollup.rebuild() if rebuild else checkouts_roll_up(max_batches=10**6)
        self.stdout.write(f"{counted} checkouts rolled up")

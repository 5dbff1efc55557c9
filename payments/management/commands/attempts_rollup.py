"""`manage.py attempts_rollup [--rebuild]`: count the authorisation attempts not yet in the
processor insights' rollup now (what the beat sweep does every ATTEMPT_ROLLUP_SECONDS), or
rebuild the rollup from every attempt (after a bulk load, or to repair it). PostgreSQL only;
elsewhere it does nothing."""

from core.commands import QuickCommand
from payments import rollup


class Command(QuickCommand):
    help = "Count authorisation attempts in the processor insights' rollup (--rebuild: anew)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Rebuild from every attempt.")

    def handle(self, *args, rebuild: bool = False, **options):
        counted = rollup.rebuild() if rebuild else rollup.roll_up(max_batches=10**6)
        self.stdout.write(f"{counted} attempts rolled up")

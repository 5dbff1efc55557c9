"""`python manage.py listen --forward-to http://localhost:4242/webhook`: the Stripe CLI's
`stripe listen` for a laptop.

Prints a signing secret, then forwards every event of the demo account (or `--account`) that is
created from now on to the URL, signed exactly as webhook deliveries are (Stripe-Signature and
Standard Webhooks headers, so both receiver libraries verify it), and prints one line per
delivery with the receiver's answer. It reads the events from the database itself: no webhook
endpoint is registered, no worker is needed, and the URL may be on this machine (it is the
developer's own receiver, not a merchant's). The secret is kept per account in `.run/`, so a
receiver's configuration survives a restart of `listen`.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import urllib3
from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.selectors import account_for_cli
from core.commands import QuickCommand
from core.scope import Scope
from events.presenters import event_body
from events.selectors import event_list
from events.signing import new_secret, signed_headers
from events.types import is_known_type

POLL_SECONDS = 0.2
# Events are found by their creation time; an event whose transaction commits a little after
# a later one was created is still found within this look-back (ids already sent are skipped).
LOOKBACK = timedelta(seconds=5)
FORWARD_TIMEOUT_SECONDS = 10


def listen_secret(account_id: str) -> str:
    """This machine's signing secret for `listen` on that account, made once and kept."""
    path = Path(settings.RUN_DIR) / f"listen-secret-{account_id}"
    try:
        secret = path.read_text().strip()
        if secret:
            return secret
    except OSError:
        pass
    secret = new_secret()
    path.write_text(secret)
    os.chmod(path, 0o600)
    return secret


def matcher(events: str | None):
    """`--events a,b,payment_intent.*` → a predicate on event types (None: every type)."""
    if not events:
        return lambda _type: True
    names = [name.strip() for name in events.split(",") if name.strip()]
    for name in names:
        if name != "*" and not name.endswith(".*") and not is_known_type(name):
            raise CommandError(f"unknown event type: {name}")
    if "*" in names:
        return lambda _type: True
    exact = {name for name in names if not name.endswith("*")}
    prefixes = tuple(name[:-1] for name in names if name.endswith(".*"))
    return lambda type_: type_ in exact or type_.startswith(prefixes)


class Command(QuickCommand):
    help = "Forward new events of the demo account (or --account) to a local URL, signed."

    def add_arguments(self, parser):
        parser.add_argument("--forward-to", help="the receiver's URL")
        parser.add_argument(
            "--events", help="comma-separated event types to forward (default: every type)"
        )
        parser.add_argument("--account", help="acct_… (default: the demo account)")
        parser.add_argument("--live", action="store_true", help="live-mode events")
        parser.add_argument(
            "--print-secret", action="store_true", help="print the signing secret and exit"
        )

    def handle(self, *args, forward_to, events, account, live, print_secret, **options):
        target = account_for_cli(account)
        if target is None:
            raise CommandError(
                f"no account {account}" if account else "no demo account: run `make run` first"
            )
        wanted = matcher(events)
        secret = listen_secret(target.id)
        if print_secret:
            self.stdout.write(secret)
            return
        if not forward_to:
            raise CommandError("--forward-to is required (e.g. http://localhost:4242/webhook)")
        scope = Scope(account_id=target.id, livemode=live)
        http = urllib3.PoolManager(retries=False, timeout=FORWARD_TIMEOUT_SECONDS)
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        since = timezone.now()
        previous_poll = since
        sent: dict[str, datetime] = {}  # ids already handled, with their creation time
        self.say(
            f"Ready! Forwarding {'live' if live else 'test'} events of {target.id} to "
            f"{forward_to}. Your webhook signing secret is {secret} (^C to quit)"
        )
        while not stopping:
            floor = max(since, previous_poll - LOOKBACK)
            previous_poll = timezone.now()
            found = list(
                event_list(scope=scope)
                .filter(created__gte=floor)
                .exclude(id__in=list(sent))
                .order_by("created", "id")
            )
            for event in found:
                sent[event.id] = event.created
                if wanted(event.type):
                    self.say(self.forward(http, forward_to, secret, event))
                if stopping:
                    break
            # ids below the next floor are never queried again
            sent = {k: at for k, at in sent.items() if at >= previous_poll - LOOKBACK}
            time.sleep(POLL_SECONDS)

    def forward(self, http, url: str, secret: str, event) -> str:
        body = event_body(event)
        headers = {
            **signed_headers(
                secrets=[secret], event_id=event.id, timestamp=int(time.time()), body=body
            ),
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": settings.WEBHOOK_USER_AGENT,
        }
        at = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        try:
            response = http.request("POST", url, body=body, headers=headers, redirect=False)
            answer = f"[{response.status}]"
        except urllib3.exceptions.HTTPError as exc:
            answer = f"[ERROR] {exc.__class__.__name__}"
        return f"{at}  --> {event.type} [{event.id}]  <-- {answer} POST {url}"

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

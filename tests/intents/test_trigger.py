"""`manage.py trigger <type>` makes, through the services, objects that emit that event."""

import pytest
from django.core.management import CommandError, call_command

from events.models import Event
from intents.management.commands.trigger import FIXTURES


@pytest.mark.parametrize("event_type", sorted(FIXTURES))
def test_trigger_emits_the_event_asked_for(acct, event_type):
    call_command("trigger", event_type, account=acct.id)
    emitted = Event.objects.filter(account_id=acct.id, livemode=False, type=event_type)
    assert emitted.count() == 1


def test_trigger_acts_for_the_demo_account_by_default(db):
    from accounts.services import account_create

    demo, _ = account_create(name="Demo merchant")
    call_command("trigger", "customer.created")
    assert Event.objects.filter(account_id=demo.id, type="customer.created").count() == 1


def test_trigger_refuses_a_type_it_cannot_make(acct):
    with pytest.raises(CommandError, match="supported: charge.captured"):
        call_command("trigger", "refund.created", account=acct.id)
    assert not Event.objects.filter(account_id=acct.id).exists()

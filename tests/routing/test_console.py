"""The console's processors, payment flows and processor insights, as an operator drives them:
the processors' list and pages (never an API key), enable/disable and the behaviour switch of a
simulated processor, the flow form that creates and edits flows through the services, and the
processor insights page with its SVG charts, linked to and from the checkout insights."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from console.charts import Series, line_chart
from routing.models import PaymentFlow, ProcessorConnection
from tests.factories import (
    AttemptFactory,
    ChargeFactory,
    PaymentFlowFactory,
    ProcessorConnectionFactory,
)

PROCESSORS = "/admin/routing/processorconnection/"
FLOWS = "/admin/routing/paymentflow/"
INSIGHTS = "/admin/payments/charge/processor_insights/"
CHECKOUT_INSIGHTS = "/admin/checkouts/checkoutinsights/"
CIPHERTEXT = "gAAAAABfake-ciphertext-of-the-key"


@pytest.fixture
def operator(db) -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    client = Client()
    client.force_login(user)
    return client


def page(response) -> str:
    assert response.status_code == 200, response
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def action(operator: Client, url: str, action_name: str, ids: list[str], **form):
    data = {"action": action_name, "_selected_action": ids}
    if form:
        data.update(form, apply="1")
    return operator.post(url, data)


@pytest.fixture
def connections(acct):
    simulated = ProcessorConnectionFactory(
        account=acct.account, name="Sim A", behavior="decline", decline_code="do_not_honor"
    )
    stripe = ProcessorConnectionFactory(
        account=acct.account,
        name="Stripe EU",
        kind="stripe",
        api_key_encrypted=CIPHERTEXT,
        api_key_last4="9xYz",
    )
    return simulated, stripe


# --- processors ----------------------------------------------------------------------------


def test_the_processors_list(operator, connections):
    simulated, stripe = connections
    html = page(operator.get(PROCESSORS))
    for text in ("Sim A", "Stripe EU", "decline (do_not_honor)", "0 ms", "closed", "active"):
        assert text in html
    assert CIPHERTEXT not in html
    assert f'href="{INSIGHTS}"' in html  # its insights, one click away


def test_a_stripe_processors_page_shows_the_keys_last_four_only(operator, connections):
    _, stripe = connections
    html = page(operator.get(f"{PROCESSORS}{quote(stripe.id)}/change/"))
    assert "•••• 9xYz" in html
    assert CIPHERTEXT not in html
    # no behaviour switch for a real processor; enabled, so Disable and no Enable
    assert 'id="console-disable"' in html
    assert 'id="console-enable"' not in html and 'id="console-set_behavior"' not in html


def test_the_behaviour_switch_changes_the_row(operator, connections):
    simulated, _ = connections
    html = page(operator.get(f"{PROCESSORS}{quote(simulated.id)}/change/"))
    assert 'id="console-set_behavior"' in html
    form = page(action(operator, PROCESSORS, "set_behavior", [simulated.id]))
    assert 'value="do_not_honor"' in form  # the form starts from the row
    response = action(
        operator,
        PROCESSORS,
        "set_behavior",
        [simulated.id],
        behavior="outage",
        decline_code="",
        latency_ms="250",
    )
    assert response.status_code == 302
    simulated.refresh_from_db()
    assert (simulated.behavior, simulated.decline_code, simulated.latency_ms) == (
        "outage",
        "do_not_honor",
        250,
    )
    assert messages_of(response) == [
        f"Processor connection {simulated.id}: Behaviour set to outage, latency 250 ms."
    ]
    entry = LogEntry.objects.get(object_id=simulated.id)
    assert entry.user.username == "ops" and entry.change_message.startswith("Behaviour set to")
    html = page(operator.get(PROCESSORS))
    assert "outage" in html and "250 ms" in html


def test_the_behaviour_of_a_stripe_processor_is_refused_with_a_message(operator, connections):
    _, stripe = connections
    response = action(
        operator, PROCESSORS, "set_behavior", [stripe.id], behavior="outage", latency_ms="5"
    )
    assert response.status_code == 302
    assert "only for processors of kind" in messages_of(response)[0]
    stripe.refresh_from_db()
    assert stripe.behavior == "normal" and stripe.latency_ms == 0
    assert not LogEntry.objects.exists()


def test_disable_then_enable(operator, connections):
    simulated, _ = connections
    response = action(operator, PROCESSORS, "disable", [simulated.id])
    assert messages_of(response) == [f"Processor connection {simulated.id}: Disabled."]
    simulated.refresh_from_db()
    assert simulated.status == "disabled"
    html = page(operator.get(f"{PROCESSORS}{quote(simulated.id)}/change/"))
    assert 'id="console-enable"' in html and 'id="console-disable"' not in html
    action(operator, PROCESSORS, "enable", [simulated.id])
    simulated.refresh_from_db()
    assert simulated.status == "active"


# --- payment flows -------------------------------------------------------------------------


def test_the_flow_form_creates_a_flow(operator, acct, connections):
    simulated, stripe = connections
    add = f"{FLOWS}add/?account={acct.id}&mode=test"
    form = page(operator.get(add))
    assert f'value="{simulated.id}"' in form and f'value="{stripe.id}"' in form
    response = operator.post(
        add,
        {
            "name": "EU split",
            "routing_type": "volume_split",
            "processor_1": stripe.id,
            "percent_1": "70",
            "processor_2": simulated.id,
            "percent_2": "30",
            "retry_max_attempts": "2",
            "retry_on": ["soft_decline"],
            "default": "on",
        },
    )
    flow = PaymentFlow.objects.get(account=acct.account, livemode=False)
    assert response.status_code == 302
    assert response["Location"] == f"{FLOWS}{quote(flow.id)}/change/"
    assert flow.name == "EU split" and flow.is_default and flow.version == 1
    assert flow.routing == {
        "type": "volume_split",
        "split": [
            {"processor": stripe.id, "percent": 70},
            {"processor": simulated.id, "percent": 30},
        ],
    }
    assert flow.retry == {"max_attempts": 2, "on": ["soft_decline"]}
    entry = LogEntry.objects.get(object_id=flow.id)
    assert entry.action_flag == ADDITION and entry.user.username == "ops"
    html = page(operator.get(FLOWS))
    assert "EU split" in html and f"{stripe.id} 70%" in html
    assert "up to 2 attempts, on soft decline" in html


def test_the_flow_form_refuses_a_split_that_is_not_100(operator, acct, connections):
    simulated, stripe = connections
    response = operator.post(
        f"{FLOWS}add/?account={acct.id}",
        {
            "name": "Bad",
            "routing_type": "volume_split",
            "processor_1": stripe.id,
            "percent_1": "70",
            "processor_2": simulated.id,
            "percent_2": "20",
            "retry_max_attempts": "1",
        },
    )
    assert "add up to 100 (these: 90)" in page(response)
    assert not PaymentFlow.objects.exists()


def test_the_flow_form_offers_only_the_accounts_processors(operator, acct, other_acct):
    theirs = ProcessorConnectionFactory(account=other_acct.account, name="Theirs")
    response = operator.post(
        f"{FLOWS}add/?account={acct.id}",
        {
            "name": "Sneaky",
            "routing_type": "priority",
            "processor_1": theirs.id,
            "retry_max_attempts": "1",
        },
    )
    assert "Select a valid choice" in page(response)
    assert not PaymentFlow.objects.exists()


def test_the_edit_form_updates_a_flow(operator, acct, connections):
    simulated, stripe = connections
    flow = PaymentFlowFactory(
        account=acct.account,
        name="Main",
        routing={"type": "priority", "processors": [simulated.id]},
    )
    html = page(operator.get(f"{FLOWS}{quote(flow.id)}/change/"))
    assert 'id="console-edit_flow"' in html
    form = page(action(operator, FLOWS, "edit_flow", [flow.id]))
    assert 'value="Main"' in form
    response = action(
        operator,
        FLOWS,
        "edit_flow",
        [flow.id],
        name="Main",
        routing_type="priority",
        processor_1=stripe.id,
        processor_2=simulated.id,
        retry_max_attempts="3",
        retry_on=["soft_decline", "processor_error"],
    )
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.routing == {"type": "priority", "processors": [stripe.id, simulated.id]}
    assert flow.retry == {"max_attempts": 3, "on": ["soft_decline", "processor_error"]}
    assert flow.version == 2
    assert messages_of(response) == [f"Payment flow {flow.id}: Updated (version 2)."]


# --- processor insights --------------------------------------------------------------------


def test_the_insights_page_draws_the_processors_without_script(operator, acct, connections):
    simulated, stripe = connections
    now = datetime.now(UTC)
    for days_ago, outcome in [(0, "succeeded"), (1, "succeeded"), (1, "soft_decline")]:
        AttemptFactory(
            account=acct.account,
            processor=stripe.id,
            outcome=outcome,
            created=now - timedelta(days=days_ago),
        )
    AttemptFactory(account=acct.account, processor=simulated.id, outcome="hard_decline")
    ChargeFactory(account=acct.account, attempt_number=2, amount=1500, currency="usd")
    html = page(operator.get(INSIGHTS, {"account": acct.id, "period": "7"}))
    content = html.split('id="content-main"')[1]
    assert "<script" not in content
    assert '<strong id="kpi-attempts">4</strong>' in html
    assert '<strong id="kpi-succeeded">2</strong>' in html
    assert '<strong id="kpi-rate">50.0%</strong>' in html  # 2 / (2 + 1 soft + 1 hard)
    assert '<strong id="kpi-recovered">1</strong>' in html
    assert '<strong id="kpi-recovered-amount">$15.00</strong>' in html
    assert 'class="processor-rates"' in html and 'class="processor-attempts"' in html
    # a line per connection, a day's bar layer per connection with attempts that day
    rates = re.search(r'<svg [^>]*class="processor-rates">.*?</svg>', content).group(0)
    bars = re.search(r'<svg [^>]*class="processor-attempts">.*?</svg>', content).group(0)
    assert rates.count("<path ") == 2
    assert len(re.findall(r"<rect [^>]*><title>Stripe EU, ", bars)) == 2
    assert len(re.findall(r"<rect [^>]*><title>Sim A, ", bars)) == 1
    assert "Stripe EU, " + (now - timedelta(days=1)).strftime("%b %d") + ": 50.0%" in rates
    assert "66.7%" in content  # Stripe EU over the week: 2 of 3
    assert "$40.00" in content  # its volume: two succeeded $20.00
    assert f'href="{CHECKOUT_INSIGHTS}?account={acct.id}' in html
    # and back, from the checkout insights
    assert f'href="{INSIGHTS}?account={acct.id}' in page(
        operator.get(CHECKOUT_INSIGHTS, {"account": acct.id})
    )


def test_the_insights_page_filters_by_flow(operator, acct, connections):
    simulated, _ = connections
    flow = PaymentFlowFactory(account=acct.account, name="Checkout flow")
    AttemptFactory(account=acct.account, processor=simulated.id, payment_flow=flow.id)
    AttemptFactory(account=acct.account, processor=simulated.id)
    everything = page(operator.get(INSIGHTS, {"account": acct.id}))
    assert '<strong id="kpi-attempts">2</strong>' in everything
    assert f'<option value="{flow.id}">Checkout flow ({flow.id})</option>' in everything
    narrowed = page(operator.get(INSIGHTS, {"account": acct.id, "flow": flow.id}))
    assert '<strong id="kpi-attempts">1</strong>' in narrowed


def test_the_insights_page_with_nothing_to_show(operator, acct):
    html = page(operator.get(INSIGHTS, {"account": acct.id, "mode": "live", "period": "90"}))
    assert "No authorisation attempts in this period." in html
    assert '<strong id="kpi-rate">—</strong>' in html
    assert ProcessorConnection.objects.count() == 0  # a read creates nothing


# --- the console's words and layout --------------------------------------------------------


def test_the_console_says_behaviour_and_shows_codes_as_code(operator, connections):
    simulated, _ = connections
    listing = page(operator.get(PROCESSORS))
    assert "By behaviour" in listing and "By behavior" not in listing
    form = page(action(operator, PROCESSORS, "set_behavior", [simulated.id]))
    assert '<label class="required" for="id_behavior">Behaviour:</label>' in form
    assert "<code>decline</code>" in form and "`" not in form
    assert "admin/css/forms.css" in form  # laid out as the admin's own forms


def test_the_flow_page_names_each_processor_beside_its_id(operator, acct, connections):
    simulated, stripe = connections
    flow = PaymentFlowFactory(
        account=acct.account, routing={"type": "priority", "processors": [stripe.id, simulated.id]}
    )
    html = page(operator.get(f"{FLOWS}{quote(flow.id)}/change/"))
    named = re.search(r'<div class="readonly">(.*?)</div>', html.split("field-processors_named")[1])
    assert re.sub(r"<[^>]+>", "", named.group(1)) == (
        f"Stripe EU ({stripe.id}) → Sim A ({simulated.id})"
    )
    assert f'href="{PROCESSORS}{quote(stripe.id)}/change/"' in named.group(1)


def test_the_insights_list_the_processors_by_name(operator, acct):
    # made in this order, their ids random: the table and the charts' legends by name, then id
    names = ["Zulu", "alpha", "Mike"]
    for name in names:
        connection = ProcessorConnectionFactory(account=acct.account, name=name)
        AttemptFactory(account=acct.account, processor=connection.id)
    html = page(operator.get(INSIGHTS, {"account": acct.id, "period": "7"}))
    table = html.split('id="processors"')[1].split("</table>")[0]
    assert re.findall(r'/change/">([^<]+)</a>', table) == ["alpha", "Mike", "Zulu"]
    legends = re.findall(r'<text x="710" y="14"[^>]*>(.*?)</text>', html)
    assert len(legends) == 2
    for legend in legends:
        assert re.findall(r"■ (\w+)</tspan>", legend) == ["alpha", "Mike", "Zulu"]


def test_a_rate_on_a_single_day_is_a_marked_point_with_its_value():
    labels = ["Nov 30", "Dec 01", "Dec 06"]
    svg = line_chart(
        [Series("A", [None, None, 0.0], "#111"), Series("B", [None, None, 0.8], "#222")],
        labels,
        top=1,
        percent=True,
    )
    assert svg.count('r="5"') == 2  # a marker, not a 2.5 px dot
    values = re.findall(r'<text [^>]*font-weight="bold"[^>]*>([^<]+)</text>', svg)
    assert sorted(values) == ["0.0%", "80.0%"]
    # the last day's label is moved in from the right edge, whole
    last = re.search(r'<text x="([\d.]+)"[^>]*text-anchor="middle">Dec 06</text>', svg)
    assert float(last.group(1)) + len("Dec 06") * 11 * 0.62 / 2 <= 720
    assert "style=" not in svg

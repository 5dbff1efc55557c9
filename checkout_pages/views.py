"""The hosted checkout page and the embedded forms (outside /v1). The URL carries the client
token (or a signed key derived from it, for the 3-D Secure return address), so the page needs no
API key and no session.

Protections on every response: `Content-Security-Policy` (`default-src 'self'`, so no inline
script or style and no third-party asset; `frame-ancestors` from `allowed_origins`, `'none'` for
a checkout_page), `Cache-Control: no-store`, `Referrer-Policy: same-origin` (the token never
leaves in a Referer, and the form POST keeps its real `Origin`).

Forgery: a framed form lives in a third-party context, where browsers neither set nor send
Django's SameSite=Lax CSRF cookie, so the page carries its own protection instead: a signed form
token bound to this intent and its current client token, and the `Origin` header checked exactly
as Django's CSRF check does (it must be this site; `null`, sent under `no-referrer` or from a
sandboxed frame, is refused).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from api.geolocation import request_country
from checkouts.models import StepStatus
from core.errors import CardError, DomainError
from core.money import format_amount
from core.scope import Scope
from intents.models import Status as PaymentIntentStatus
from payments.processors.simulated import BRAND_RANGES

from . import selectors, services
from .exceptions import CheckoutIntentUnexpectedState, PaymentInProgress
from .forms import ADDRESS_FIELDS, CheckoutForm
from .models import CheckoutIntent, Status, Type

FORM_SALT = "checkout_pages.form"
FORM_MAX_AGE_SECONDS = 6 * 3600
PROCESSING_REFRESH_SECONDS = 2
# The brand table page.js reads to show the card's network as the shopper types.
CARD_BRANDS_JSON = json.dumps([list(row) for row in BRAND_RANGES], separators=(",", ":"))

# Declines in plain words (the issuer's reason is not told for lost/stolen/fraud).
PLAIN_DECLINES = {
    "generic_decline": "Your card was declined. Try another card, or contact your bank.",
    "insufficient_funds": "Your card has insufficient funds. Try another card.",
    "lost_card": "Your card was declined. Try another card.",
    "stolen_card": "Your card was declined. Try another card.",
    "fraudulent": "Your card was declined. Try another card.",
    "expired_card": "Your card has expired. Try another card.",
    "incorrect_cvc": "The security code (CVC) is incorrect. Check it and try again.",
    "processing_error": "Something went wrong while processing your card. Try again.",
    "authentication_required": "Your bank could not confirm this payment. Try again, or use "
    "another card.",
    "payment_intent_authentication_failure": "Your bank could not confirm this payment. Try "
    "again, or use another card.",
    "setup_intent_authentication_failure": "Your bank could not confirm this card. Try again, "
    "or use another card.",
}
# The form's card fields, by the processor's param name.
CARD_FIELD = {"number": "number", "exp_month": "exp", "exp_year": "exp", "cvc": "cvc"}
# A decline about one of the card's fields is shown at that field, whenever it comes (at the
# submit, or after 3-D Secure, or once a `processing` payment settles).
DECLINE_FIELD = {
    "expired_card": "exp",
    "incorrect_cvc": "cvc",
    "invalid_cvc": "cvc",
    "incorrect_number": "number",
    "invalid_number": "number",
}


# --- helpers ---------------------------------------------------------------------------------


def with_params(url: str, ci: CheckoutIntent) -> str:
    """`url` with `checkout_intent` and `status` added: the same two on every path."""
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "")
    query += urlencode({"checkout_intent": ci.id, "status": ci.status})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def in_frame(ci: CheckoutIntent | None) -> bool:
    """The page may be shown inside a merchant's frame: a framed type with origins allowed to
    frame it (without any, `frame-ancestors 'none'`: it is only ever a page of its own)."""
    return ci is not None and ci.framed and bool(ci.allowed_origins)


def secure(response: HttpResponse, ci: CheckoutIntent | None) -> HttpResponse:
    framed = in_frame(ci)
    ancestors = " ".join(ci.allowed_origins) if framed else "'none'"
    response["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {ancestors}"
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    if framed:
        # frame-ancestors decides; the site-wide X-Frame-Options: DENY would forbid every frame.
        response.xframe_options_exempt = True
    return response


def form_token(ci: CheckoutIntent) -> str:
    return signing.dumps([ci.id, ci.client_token_hash[:16]], salt=FORM_SALT, compress=False)


def form_token_valid(ci: CheckoutIntent, token: str) -> bool:
    try:
        value = signing.loads(token or "", salt=FORM_SALT, max_age=FORM_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return False
    return value == [ci.id, ci.client_token_hash[:16]]


def same_origin(request) -> bool:
    """The POST comes from a page of this site (as Django's CSRF check decides it)."""
    origin = request.META.get("HTTP_ORIGIN")
    return origin == f"{request.scheme}://{request.get_host()}"


def parent_origin(ci: CheckoutIntent, raw: str | None) -> str | None:
    """The merchant page framing a plugin or form (checkout.js passes it): one of
    `allowed_origins`, else None (messages go nowhere)."""
    return raw if raw and ci.framed and raw in (ci.allowed_origins or []) else None


def plain_decline(code: str | None, decline_code: str | None, message: str) -> str:
    return PLAIN_DECLINES.get(decline_code or "") or PLAIN_DECLINES.get(code or "") or message


def last_failure(ci: CheckoutIntent) -> dict:
    """The error of the checkout's latest attempt, while the shopper may try again: its open
    PaymentIntent's `last_payment_error` (or, saving a card, its SetupIntent's
    `last_setup_error`); {} when it has none."""
    pi, si = ci.payment_intent, ci.setup_intent
    if pi is not None and pi.status == PaymentIntentStatus.REQUIRES_PAYMENT_METHOD:
        return pi.last_payment_error or {}
    if pi is None and si is not None and si.status == "requires_payment_method":
        return si.last_setup_error or {}
    return {}


def tie_decline(
    form: CheckoutForm, code: str | None, decline_code: str | None, message: str, param=None
) -> str | None:
    """A decline shown as the shopper needs it, the same whether it came at the submit or
    later: at the card field it is about (marked invalid, described by it, focused by page.js),
    else returned for the alert at the top of the form (which the form is described by)."""
    plain = plain_decline(code, decline_code, message)
    field = (
        CARD_FIELD.get(param_name(param))
        or DECLINE_FIELD.get(decline_code or "")
        or (DECLINE_FIELD.get(code or ""))
    )
    if field:
        form.add_error(field, plain)
        return None
    return plain


def failure_context(ci: CheckoutIntent) -> dict:
    """What the page shows of the latest attempt's failure (`form`, `declined`), or {}."""
    error = last_failure(ci)
    if not error:
        return {}
    form = CheckoutForm(None, checkout_intent=ci)
    form.cleaned_data = {}  # unbound: nothing was sent, the error is the processor's
    declined = tie_decline(
        form, error.get("code"), error.get("decline_code"), error.get("message", "")
    )
    return {"form": form, "declined": declined}


def param_name(param: str | None) -> str:
    """`card[exp_month]` → `exp_month`; `amount` → `amount`."""
    return (param or "").rpartition("[")[2].rstrip("]")


def not_found(request) -> HttpResponse:
    response = render(request, "checkout/invalid.html", status=404)
    return secure(response, None)


# --- pages -----------------------------------------------------------------------------------


def context_for(request, ci: CheckoutIntent, key: str, origin: str | None, **extra) -> dict:
    shown = ci.as_shown()
    session = selectors.session_for_checkout_intent(ci)
    lines = [
        {
            "description": line["description"],
            "quantity": line["quantity"],
            "amount": format_amount(line["amount_total"], line["currency"]),
        }
        for line in (session.line_items if session is not None else [])
    ]
    amount = (
        format_amount(ci.amount, ci.currency) if ci.amount is not None and ci.currency else None
    )
    return {
        "ci": shown,
        "key": key,
        "merchant": ci.account.name,
        "amount": amount,
        "pays": ci.pays,
        "framed": ci.framed,
        "parent_origin": origin or "",
        "form_token": form_token(ci),
        "completed_link": with_params(ci.completed_url, shown) if ci.completed_url else None,
        "return_link": with_params(ci.return_url, shown) if ci.return_url else None,
        "button": "Save card" if ci.type == Type.PAYMENT_METHOD_FORM else f"Pay {amount or ''}",
        "form": None,
        "values": {},
        "line_items": lines,
        "card_brands": CARD_BRANDS_JSON,
        "test_mode": not ci.livemode,
        **extra,
    }


def render_page(request, ci, key, origin, *, status: int = 200, **extra) -> HttpResponse:
    """The form while pending, the status page otherwise (never a form that can pay)."""
    context = context_for(request, ci, key, origin, **extra)
    template = (
        "checkout/page.html" if context["ci"].status == Status.PENDING else "checkout/status.html"
    )
    return secure(render(request, template, context, status=status), ci)


def render_processing(request, ci, key, origin) -> HttpResponse:
    context = context_for(request, ci, key, origin)
    context["refresh_url"] = return_path(key, origin)
    context["refresh_seconds"] = PROCESSING_REFRESH_SECONDS
    return secure(render(request, "checkout/processing.html", context), ci)


def return_path(key: str, origin: str | None) -> str:
    path = reverse("checkout_return", kwargs={"key": key})
    return f"{path}?{urlencode({'origin': origin})}" if origin else path


def completion(request, ci: CheckoutIntent, key: str, origin: str | None) -> HttpResponse:
    """The checkout is finished: a checkout_page sends the window to `completed_url`; a framed
    one tells its parent (checkout.js sends the top window there) and offers the link."""
    if not ci.completed_url:
        return render_page(request, ci, key, origin)
    # A Checkout Session's success_url is used as given ({CHECKOUT_SESSION_ID} filled in).
    session = selectors.session_for_checkout_intent(ci)
    target = ci.completed_url if session is not None else with_params(ci.completed_url, ci)
    if not ci.framed:
        return secure(HttpResponseRedirect(target, status=303), ci)
    context = context_for(request, ci, key, origin)
    context["redirect"] = target
    return secure(render(request, "checkout/done.html", context), ci)


@csrf_exempt  # protected by the signed form token and the Origin check (module docstring)
@sensitive_post_parameters("number", "cvc")  # kept out of error reports
@require_http_methods(["GET", "POST"])
def checkout_page(request, key: str):
    ci = selectors.checkout_intent_for_page(key)
    if ci is None:
        return not_found(request)
    origin = parent_origin(ci, request.GET.get("origin") or request.POST.get("origin"))
    if request.method == "GET":
        if services.page_view_news(ci):  # the form is shown: billing under way
            services.checkout_intent_track(
                scope=Scope.of(ci),
                checkout_intent=ci,
                billing=StepStatus.IN_PROGRESS,
                located_country=request_country(request),
            )
        # opened again after an attempt failed (reloaded, or back from the bank): say why
        return render_page(request, ci, key, origin, **failure_context(ci))
    if not same_origin(request) or not form_token_valid(ci, request.POST.get("form_token", "")):
        response = render(request, "checkout/forbidden.html", status=403)
        return secure(response, ci)
    return pay(request, ci, key, origin)


def pay(request, ci: CheckoutIntent, key: str, origin: str | None) -> HttpResponse:
    form = CheckoutForm(request.POST, checkout_intent=ci)
    # What the page shows again after an error, so the shopper fixes one field rather than
    # typing everything again: the card number too, written back from this very POST into this
    # one answer (`Cache-Control: no-store`; never stored, never logged), but never the CVC.
    values = {
        name: request.POST.get(name, "").strip()
        for name in ("number", "exp", "name", "amount", *ADDRESS_FIELDS)
    }
    if not form.is_valid():
        return render_page(request, ci, key, origin, status=400, form=form, values=values)
    return_url = request.build_absolute_uri(return_path(selectors.page_key(ci), origin))
    if in_frame(ci):
        # 3-D Secure runs in a window the frame opens: its return page only says "done".
        return_url += ("&" if "?" in return_url else "?") + "window=challenge"
    try:
        payment = services.checkout_intent_pay(
            scope=Scope.of(ci),
            checkout_intent_id=ci.id,
            card=form.card(),
            billing_details=form.billing_details(),
            amount=form.cleaned_data.get("amount"),
            return_url=return_url,
        )
    except CardError as exc:
        declined = tie_decline(form, exc.code, exc.decline_code, exc.message, exc.param)
        return render_page(
            request, ci, key, origin, status=402, form=form, values=values, declined=declined
        )
    except PaymentInProgress:
        return render_processing(request, ci, key, origin)
    except CheckoutIntentUnexpectedState:
        # Another submit finished (or the intent expired) meanwhile: show it as it is now.
        # (Read afresh: django-fsm refuses refresh_from_db on a protected status.)
        ci = selectors.checkout_intent_get(scope=Scope.of(ci), checkout_intent_id=ci.id)
        return render_page(request, ci, key, origin)
    except DomainError as exc:
        at_amount = param_name(exc.param) == "amount" and "amount" in form.fields
        form.add_error("amount" if at_amount else None, exc.message)
        return render_page(request, ci, key, origin, status=400, form=form, values=values)
    if payment.next_action_url:
        if in_frame(ci):
            context = context_for(request, ci, key, origin)
            context["challenge_url"] = payment.next_action_url
            # 3-D Secure opens in a window this frame controls; its return page tells the
            # frame (page.js), which then shows the outcome here and tells the merchant's page.
            context["return_url"] = return_path(key, origin)
            context["status_url"] = reverse("checkout_status", kwargs={"key": key})
            return secure(render(request, "checkout/challenge.html", context), ci)
        return secure(HttpResponseRedirect(payment.next_action_url, status=303), ci)
    return after_payment(request, payment.checkout_intent, key, origin)


def after_payment(request, ci: CheckoutIntent, key: str, origin: str | None) -> HttpResponse:
    shown = ci.as_shown()
    if shown.status == Status.FINISHED:
        return completion(request, ci, key, origin)
    if shown.status != Status.PENDING:
        return render_page(request, ci, key, origin)
    pi = ci.payment_intent
    if pi is not None and (pi.status == PaymentIntentStatus.PROCESSING or pi.attempt_under_way()):
        return render_processing(request, ci, key, origin)
    # a decline that came after the submit (3-D Secure, a payment that settled later) is shown
    # as one at the submit is: at its field, or in the alert the form is described by
    return render_page(request, ci, key, origin, **failure_context(ci))


@require_http_methods(["GET"])
def checkout_return(request, key: str):
    """Where 3-D Secure (and the processing page) comes back to: the checkout as it is —
    finished, the form again (with the reason), or a status. It needs no update here: the
    3-D Secure step's (or the worker's) phase 2 told the checkout the outcome as it wrote it."""
    ci = selectors.checkout_intent_for_page(key)
    if ci is None:
        return not_found(request)
    if request.GET.get("window") == "challenge":
        # The challenge window of a framed form: the frame (polling `checkout_status`) shows
        # the outcome and tells the merchant's page; this window only asks to be closed.
        context = context_for(request, ci, key, None)
        return secure(render(request, "checkout/challenge_done.html", context), ci)
    origin = parent_origin(ci, request.GET.get("origin"))
    return after_payment(request, ci, key, origin)


@require_http_methods(["GET"])
def checkout_status(request, key: str):
    """Whether a framed form's 3-D Secure step is still waiting for the customer (the frame
    polls this while the challenge window is open). Nothing but that one bit."""
    ci = selectors.checkout_intent_for_page(key)
    if ci is None:
        return secure(JsonResponse({"error": "not_found"}, status=404), None)
    intent = ci.payment_intent or ci.setup_intent
    waiting = (
        ci.as_shown().status == Status.PENDING
        and intent is not None
        and intent.status == "requires_action"
    )
    return secure(JsonResponse({"waiting": waiting}), ci)


# --- Payment Links ---------------------------------------------------------------------------


@require_http_methods(["GET"])
def payment_link_page(request, key: str):
    """Each visit to an active link starts a new Checkout Session and goes to its page; an
    inactive link shows a plain page saying so."""
    link = selectors.payment_link_for_page(key)
    if link is None:
        return not_found(request)
    if not link.active:
        response = render(request, "checkout/link_inactive.html", {"merchant": link.account.name})
        return secure(response, None)
    done = request.build_absolute_uri(reverse("payment_link_done", kwargs={"key": key}))
    try:
        session = services.payment_link_visit(
            link, success_url=f"{done}?session_id={{CHECKOUT_SESSION_ID}}"
        )
    except DomainError:
        # A price of the link was deactivated since: the link cannot sell now.
        response = render(request, "checkout/link_inactive.html", {"merchant": link.account.name})
        return secure(response, None)
    return secure(HttpResponseRedirect(services.session_url(session), status=303), None)


@require_http_methods(["GET"])
def payment_link_done(request, key: str):
    """The confirmation a link without a redirect ends on."""
    link = selectors.payment_link_for_page(key)
    if link is None:
        return not_found(request)
    response = render(request, "checkout/link_done.html", {"merchant": link.account.name})
    return secure(response, None)

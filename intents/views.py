"""The hosted 3-D Secure page (outside /v1): the customer completes or fails the challenge and is
sent back to the confirm's `return_url`. A signed token in the URL names the intent and the
attempt, so the page needs no API key and no session (and so no CSRF cookie)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.money import format_amount
from core.web import is_absolute_http_url

from .models import PaymentIntent, SetupIntent
from .selectors import setup_upstream_challenge, upstream_challenge
from .services import (
    payment_intent_authenticate,
    setup_intent_authenticate,
    setup_three_d_secure_read_token,
    three_d_secure_read_token,
)


def redirect_status(pi: PaymentIntent) -> str:
    """Stripe's `redirect_status` on the return URL: how the payment stands after the page."""
    if pi.status in ("succeeded", "requires_capture"):
        return "succeeded"
    if pi.status == "processing":
        return "processing"
    return "failed"


def _redirect_target(pi: PaymentIntent) -> str | None:
    """The return URL with the payment's outcome, or None: also when the stored URL is not an
    absolute http(s) one (stored before the API checked it), which a link or redirect must
    never point at (`javascript:`, `data:`) — after a payment the page shows the outcome."""
    if not is_absolute_http_url(pi.return_url):
        return None
    parts = urlsplit(pi.return_url)
    query = parts.query + ("&" if parts.query else "")
    query += urlencode(
        {
            "payment_intent": pi.id,
            "payment_intent_client_secret": pi.client_secret,
            "redirect_status": redirect_status(pi),
        }
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _setup_redirect_target(si: SetupIntent) -> str | None:
    """The SetupIntent's return URL with its outcome (Stripe's `setup_intent`,
    `setup_intent_client_secret`, `redirect_status`), or None (as `_redirect_target`)."""
    if not is_absolute_http_url(si.return_url):
        return None
    parts = urlsplit(si.return_url)
    query = parts.query + ("&" if parts.query else "")
    query += urlencode(
        {
            "setup_intent": si.id,
            "setup_intent_client_secret": si.client_secret,
            "redirect_status": "succeeded" if si.status == "succeeded" else "failed",
        }
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _bad_token() -> HttpResponse:
    return HttpResponse("This authentication link is invalid or has expired.", status=404)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def three_d_secure(request, id: str):
    token = request.GET.get("token") or request.POST.get("token") or ""
    ids = three_d_secure_read_token(token)
    if ids is None or ids[0] != id:
        return _bad_token()
    intent_id, charge_id = ids
    pi = PaymentIntent.objects.filter(id=intent_id).first()
    if pi is None:
        return _bad_token()
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome not in ("complete", "fail"):
            return HttpResponse("Choose complete or fail.", status=400)
        pi = payment_intent_authenticate(
            payment_intent_id=intent_id, charge_id=charge_id, succeeded=outcome == "complete"
        )
        target = _redirect_target(pi)
        if target:
            return HttpResponseRedirect(target)
        return render(request, "intents/three_d_secure_done.html", {"pi": pi})
    waiting = pi.status == "requires_action" and pi.latest_charge_id == charge_id
    upstream = upstream_challenge(charge_id) if waiting else None
    if upstream is not None:
        if "redirect_status" not in request.GET:
            # the processor runs the challenge on its own page, which sends the customer back
            # here (with its `redirect_status`) once done
            return HttpResponseRedirect(upstream)
        # back from the processor's page: its payment says how the challenge went
        pi = payment_intent_authenticate(
            payment_intent_id=intent_id, charge_id=charge_id, succeeded=True
        )
        target = _redirect_target(pi)
        if target:
            return HttpResponseRedirect(target)
        return render(request, "intents/three_d_secure_done.html", {"pi": pi})
    response = render(
        request,
        "intents/three_d_secure.html",
        {
            "pi": pi,
            "amount": format_amount(pi.amount, pi.currency),
            "token": token,
            "waiting": waiting,
            "return_to": _redirect_target(pi),
        },
    )
    # The site's CSP (api.middleware.SITE_CSP) but no `form-action`: the page's forms post here,
    # and the answer redirects to the merchant's return_url, which may redirect on (the hosted
    # checkout's return goes on to its completed_url). Chromium checks form-action against
    # every URL of a form's redirect chain, so `'self'` (or any list of origins we could know
    # here) would block the customer's way back to the merchant.
    response.csp_directives = {"form_action": None}
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def setup_three_d_secure(request, id: str):
    """The same page for a SetupIntent's challenge: the card is saved, not charged."""
    token = request.GET.get("token") or request.POST.get("token") or ""
    ids = setup_three_d_secure_read_token(token)
    if ids is None or ids[0] != id:
        return _bad_token()
    setup_intent_id, attempt_id = ids
    si = SetupIntent.objects.filter(id=setup_intent_id).first()
    if si is None:
        return _bad_token()

    def done(si: SetupIntent) -> HttpResponse:
        target = _setup_redirect_target(si)
        if target:
            return HttpResponseRedirect(target)
        return render(request, "intents/three_d_secure_done.html", {"pi": si, "setup": True})

    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome not in ("complete", "fail"):
            return HttpResponse("Choose complete or fail.", status=400)
        return done(
            setup_intent_authenticate(
                setup_intent_id=si.id, attempt_id=attempt_id, succeeded=outcome == "complete"
            )
        )
    waiting = si.status == "requires_action" and si.challenged_attempt == attempt_id
    upstream = setup_upstream_challenge(attempt_id) if waiting else None
    if upstream is not None:
        if "redirect_status" not in request.GET:
            return HttpResponseRedirect(upstream)
        return done(
            setup_intent_authenticate(setup_intent_id=si.id, attempt_id=attempt_id, succeeded=True)
        )
    response = render(
        request,
        "intents/three_d_secure.html",
        {
            "pi": si,
            "setup": True,
            "amount": "",
            "token": token,
            "waiting": waiting,
            "return_to": _setup_redirect_target(si),
        },
    )
    response.csp_directives = {"form_action": None}  # as the payment's page (above)
    return response

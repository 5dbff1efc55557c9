/* The hosted page's only script (served from this site: the page's CSP allows nothing else).
   - One submit: the Pay button is disabled once the form is sent (the server refuses a second
     charge anyway).
   - Inside a checkout_plugin or a form framed by an allowed origin, it tells the parent window
     what happens — loaded, processing, declined, success, closed — with postMessage addressed
     to that one origin (the server put it on the page only if it is in allowed_origins).
   - Not framed, a finished page goes on to the merchant's completed_url. */
(function () {
  "use strict";
  var body = document.body;
  var parentOrigin = body.getAttribute("data-parent-origin");
  var framed = window.parent !== window;

  function post(type, extra) {
    if (!framed || !parentOrigin) return;
    var message = {
      source: "payintents",
      type: type,
      checkout_intent: body.getAttribute("data-checkout-intent"),
      status: body.getAttribute("data-status")
    };
    for (var key in extra || {}) message[key] = extra[key];
    window.parent.postMessage(message, parentOrigin);
  }

  // A framed form's 3-D Secure step runs in a window it opens (a frame cannot host the bank's
  // page): the frame polls whether the step is still waiting, then shows the outcome here and
  // tells the merchant's page. The window's last page only asks to be closed.
  if (document.getElementById("challenge-done")) {
    try { window.close(); } catch (err) { /* a window the browser will not let us close */ }
  }
  var challenge = document.getElementById("challenge");
  if (challenge && challenge.getAttribute("data-status-url")) {
    var waiting = document.getElementById("waiting");
    var poll = function () {
      var request = new XMLHttpRequest();
      request.open("GET", challenge.getAttribute("data-status-url"));
      request.onload = function () {
        var answer = {};
        try { answer = JSON.parse(request.responseText); } catch (err) { answer = {}; }
        if (request.status === 200 && answer.waiting === false) {
          window.location.replace(challenge.getAttribute("data-return"));
        } else {
          window.setTimeout(poll, 1500);
        }
      };
      request.onerror = function () { window.setTimeout(poll, 3000); };
      request.send();
    };
    var link = document.getElementById("authenticate");
    if (link) link.addEventListener("click", function () {
      if (waiting) waiting.hidden = false;
    });
    window.setTimeout(poll, 1500);
  }

  var event = body.getAttribute("data-event");
  var redirect = body.getAttribute("data-redirect");
  if (event === "declined") {
    post("loaded");
    post("declined", { message: body.getAttribute("data-message") });
  } else if (event === "success") {
    post("success", { redirect_url: redirect || null });
    if (!framed && redirect) window.location.replace(redirect);
  } else if (event) {
    post(event);
  }

  // The card number grouped as it is typed (4-4-4-4; American Express 4-6-5, Diners 4-6-4),
  // and its network shown beside it, from the brand table the server put on the brand mark.
  var NAMES = { visa: "Visa", mastercard: "Mastercard", amex: "American Express",
    discover: "Discover", diners: "Diners Club", jcb: "JCB", unionpay: "UnionPay" };
  var number = document.getElementById("number");
  var brandMark = document.getElementById("card-brand");
  function brandOf(digits, table) {
    for (var i = 0; i < table.length; i++) {
      var low = table[i][1], high = table[i][2], head = digits.slice(0, low.length);
      if (head.length === low.length && head >= low && head <= high) return table[i][0];
    }
    return "";
  }
  function groups(brand) {
    if (brand === "amex") return [4, 6, 5];
    if (brand === "diners") return [4, 6, 4];
    return [4, 4, 4, 4, 3];
  }
  if (number) {
    var table = JSON.parse((brandMark && brandMark.getAttribute("data-brands")) || "[]");
    var show = function () {
      var digits = number.value.replace(/\D/g, "").slice(0, 19);
      var brand = brandOf(digits, table);
      var parts = [], at = 0, sizes = groups(brand);
      for (var g = 0; g < sizes.length && at < digits.length; g++) {
        parts.push(digits.slice(at, at + sizes[g]));
        at += sizes[g];
      }
      if (at < digits.length) parts.push(digits.slice(at));
      var grouped = parts.join(" ");
      if (grouped !== number.value) number.value = grouped;
      if (brandMark) {
        brandMark.textContent = NAMES[brand] || "";
        brandMark.className = "brand" + (brand ? " brand-" + brand : "");
      }
    };
    number.addEventListener("input", show);
    show();
  }

  var form = document.getElementById("checkout-form");
  // After an error: focus on the first field to correct (else on the decline message).
  var wrong = document.querySelector("[aria-invalid=true]") || document.getElementById("decline");
  if (wrong) wrong.focus();
  if (form) {
    var sent = false;
    form.addEventListener("submit", function (e) {
      if (sent) { e.preventDefault(); return; }
      sent = true;
      var button = document.getElementById("pay");
      if (button) { button.disabled = true; button.textContent = "Processing…"; }
      post("processing");
    });
  }
  var back = document.getElementById("back");
  if (back && framed && parentOrigin) {
    back.addEventListener("click", function (e) { e.preventDefault(); post("closed"); });
  }
})();

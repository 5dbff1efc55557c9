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

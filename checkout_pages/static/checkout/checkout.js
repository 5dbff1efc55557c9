/* payintents checkout.js — open a checkout intent's page on your site.

     <script src="https://pay.example.com/static/checkout/checkout.js"></script>
     <script>
       PayIntents.checkout({ clientToken: "ctok_…" })      // a modal over your page
         .on("success", function (e) { … e.checkout_intent, e.status, e.redirect_url … })
         .on("declined", function (e) { … e.message … })
         .on("closed", function () { … });
       PayIntents.checkout({ clientToken: "ctok_…", container: "#pay" })   // inline form
     </script>

   Events: loaded, processing, declined, success, closed, error. `error` (with `reason`) says
   the page could not be shown: `frame_refused` when the checkout page did not load in its
   frame within `loadTimeout` ms (default 8000) — most often because this page's origin is not
   in the checkout intent's allowed_origins, so the page's Content-Security-Policy
   (frame-ancestors) refused the frame; the reason is also written to the console. Only messages from this script's own
   origin and from the frame it opened are listened to; the page sends them only to an origin
   in the checkout intent's allowed_origins. On success the window goes to the intent's
   completed_url (with checkout_intent and status) unless `redirect: false` is given. */
(function () {
  "use strict";
  var script = document.currentScript;
  var ORIGIN = new URL(script.src, window.location.href).origin;
  var EVENTS = ["loaded", "processing", "declined", "success", "closed", "error"];

  function Checkout(options) {
    if (!options || !options.clientToken) throw new Error("PayIntents.checkout: clientToken is required");
    this.options = options;
    this.handlers = {};
    this.closed = false;
    var src = ORIGIN + "/checkout/" + encodeURIComponent(options.clientToken) +
      "?origin=" + encodeURIComponent(window.location.origin);
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = "Checkout";
    frame.setAttribute("allow", "payment");
    frame.style.cssText = "width:100%;height:640px;border:0;display:block;background:#fff;";
    this.frame = frame;
    var container = options.container;
    if (typeof container === "string") container = document.querySelector(container);
    if (container) {
      container.appendChild(frame);
    } else {
      var overlay = document.createElement("div");
      overlay.setAttribute("data-payintents-modal", "");
      overlay.style.cssText = "position:fixed;inset:0;z-index:2147483000;background:rgba(26,31,54,.55);" +
        "display:flex;align-items:center;justify-content:center;padding:1rem;";
      var box = document.createElement("div");
      box.style.cssText = "position:relative;width:100%;max-width:480px;border-radius:12px;overflow:hidden;background:#fff;";
      var close = document.createElement("button");
      close.type = "button";
      close.setAttribute("aria-label", "Close");
      close.textContent = "\u00d7";
      close.style.cssText = "position:absolute;top:.25rem;right:.5rem;border:0;background:none;font-size:1.6rem;cursor:pointer;z-index:1;";
      var self = this;
      close.addEventListener("click", function () { self.close(); });
      box.appendChild(close);
      box.appendChild(frame);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
      this.overlay = overlay;
    }
    this.listener = this.receive.bind(this);
    window.addEventListener("message", this.listener);
    // A frame refused by frame-ancestors still fires `load` (on the browser's error page) but
    // never says `loaded`: past the timeout, tell the merchant's page why.
    var checkout = this;
    this.loaded = false;
    frame.addEventListener("load", function () {
      if (checkout.loaded || checkout.timer) return;
      checkout.timer = window.setTimeout(function () { checkout.refused(); },
        options.loadTimeout || 8000);
    });
  }

  Checkout.prototype.refused = function () {
    if (this.loaded || this.closed) return;
    var message = "PayIntents: the checkout page refused to load in this frame. Add " +
      window.location.origin + " to the checkout intent's allowed_origins (the page's " +
      "Content-Security-Policy frame-ancestors), or open the page itself instead of framing it.";
    if (window.console) window.console.error(message);
    this.emit("error", { type: "error", reason: "frame_refused", origin: window.location.origin,
      message: message });
  };

  Checkout.prototype.on = function (type, handler) {
    if (EVENTS.indexOf(type) < 0) throw new Error("PayIntents.checkout: unknown event " + type);
    (this.handlers[type] = this.handlers[type] || []).push(handler);
    return this;
  };

  Checkout.prototype.emit = function (type, data) {
    (this.handlers[type] || []).forEach(function (handler) { handler(data); });
  };

  Checkout.prototype.receive = function (e) {
    if (e.origin !== ORIGIN || e.source !== this.frame.contentWindow) return;
    var data = e.data || {};
    if (data.source !== "payintents" || EVENTS.indexOf(data.type) < 0) return;
    if (data.type === "closed") { this.close(); return; }
    this.loaded = true;
    this.emit(data.type, data);
    if (data.type === "success" && data.redirect_url && this.options.redirect !== false) {
      window.location.assign(data.redirect_url);
    }
  };

  Checkout.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    window.removeEventListener("message", this.listener);
    if (this.overlay) this.overlay.remove(); else this.frame.remove();
    this.emit("closed", {});
  };

  window.PayIntents = window.PayIntents || {};
  window.PayIntents.checkout = function (options) { return new Checkout(options); };
})();

// The payment flow of the Python contract tests, through the official stripe-node library.
// Usage: PAYINTENTS_URL=http://127.0.0.1:8000 PAYINTENTS_SECRET_KEY=sk_test_… node flow.mjs
// Prints one line per step; exits non-zero at the first step that does not behave as Stripe.
import assert from "node:assert/strict";
import Stripe from "stripe";

const url = new URL(process.env.PAYINTENTS_URL);
const stripe = new Stripe(process.env.PAYINTENTS_SECRET_KEY, {
  host: url.hostname,
  port: Number(url.port),
  protocol: url.protocol.replace(":", ""),
  maxNetworkRetries: 0,
  telemetry: false,
});

const step = (name, detail) => console.log(`ok ${name}${detail ? ` ${detail}` : ""}`);

// create
const intent = await stripe.paymentIntents.create({
  amount: 2000,
  currency: "usd",
  capture_method: "manual",
  metadata: { order_id: "6735" },
});
assert.match(intent.id, /^pi_/);
assert.equal(intent.object, "payment_intent");
assert.equal(intent.status, "requires_payment_method");
assert.equal(intent.amount, 2000);
assert.deepEqual(intent.metadata, { order_id: "6735" });
assert.ok(intent.client_secret.startsWith(`${intent.id}_secret_`));
assert.match(intent.lastResponse.requestId, /^req_/);
step("create", intent.id);

// confirm with a test card
const confirmed = await stripe.paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" });
assert.equal(confirmed.status, "requires_capture");
assert.equal(confirmed.amount_capturable, 2000);
assert.match(confirmed.payment_method, /^pm_/);
step("confirm", confirmed.status);

// capture part of it
const captured = await stripe.paymentIntents.capture(intent.id, { amount_to_capture: 1500 });
assert.equal(captured.status, "succeeded");
assert.equal(captured.amount_received, 1500);
step("capture", `${captured.amount_received}`);

// retrieve, with the charge expanded
const retrieved = await stripe.paymentIntents.retrieve(intent.id, { expand: ["latest_charge"] });
assert.equal(retrieved.status, "succeeded");
assert.equal(retrieved.latest_charge.object, "charge");
assert.equal(retrieved.latest_charge.amount_captured, 1500);
step("retrieve", retrieved.latest_charge.id);

// a decline: a StripeCardError with the intent in it
const doomed = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
try {
  await stripe.paymentIntents.confirm(doomed.id, { payment_method: "pm_card_chargeDeclined" });
  assert.fail("a declined card was not refused");
} catch (err) {
  assert.ok(err instanceof Stripe.errors.StripeCardError, `${err.type}: ${err.message}`);
  assert.equal(err.type, "StripeCardError");
  assert.equal(err.statusCode, 402);
  assert.equal(err.code, "card_declined");
  assert.equal(err.decline_code, "generic_decline");
  assert.equal(err.raw.payment_intent.id, doomed.id);
  assert.equal(err.raw.payment_intent.status, "requires_payment_method");
  step("decline", `${err.code}/${err.decline_code}`);
}

// an invalid request: a StripeInvalidRequestError naming the parameter
try {
  await stripe.paymentIntents.create({ amount: 2000 });
  assert.fail("a create without currency was accepted");
} catch (err) {
  assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, `${err.type}: ${err.message}`);
  assert.equal(err.statusCode, 400);
  assert.equal(err.code, "parameter_missing");
  assert.equal(err.param, "currency");
  step("invalid", err.param);
}

// list: a page, then every intent through auto-pagination
const page = await stripe.paymentIntents.list({ limit: 1 });
assert.equal(page.object, "list");
assert.equal(page.data.length, 1);
assert.equal(page.has_more, true);
assert.equal(page.data[0].id, doomed.id);
const all = await stripe.paymentIntents.list({ limit: 1 }).autoPagingToArray({ limit: 100 });
assert.deepEqual(
  all.map((pi) => pi.id),
  [doomed.id, intent.id],
);
step("list", `${all.length}`);

// cancel
const toCancel = await stripe.paymentIntents.create({ amount: 500, currency: "usd" });
const canceled = await stripe.paymentIntents.cancel(toCancel.id, {
  cancellation_reason: "requested_by_customer",
});
assert.equal(canceled.status, "canceled");
assert.equal(canceled.cancellation_reason, "requested_by_customer");
step("cancel", canceled.id);

console.log("flow complete");

// Stripe Checkout through the official stripe-node library.
// Usage: PAYINTENTS_URL=… PAYINTENTS_SECRET_KEY=… node checkout.mjs create <success_url>
//        … node checkout.mjs verify <cs_id> <plink_id>
// `create` prints one JSON line (the session's and the link's URLs, for a browser to pay);
// `verify` checks what the payment left. Exits non-zero at the first thing not as Stripe.
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
const [command, ...args] = process.argv.slice(2);

if (command === "create") {
  const successUrl = args[0];
  const product = await stripe.products.create({ name: "Node mug" });
  assert.match(product.id, /^prod_/);
  const price = await stripe.prices.create({ product: product.id, unit_amount: 1200, currency: "usd" });
  assert.equal(price.type, "one_time");
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 2 }],
    success_url: `${successUrl}?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: successUrl,
  });
  assert.match(session.id, /^cs_/);
  assert.equal(session.status, "open");
  assert.equal(session.amount_total, 2400);
  const link = await stripe.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
  assert.match(link.id, /^plink_/);
  const customer = await stripe.customers.create({ email: "node@example.com" });
  const setup = await stripe.setupIntents.create({ customer: customer.id, payment_method: "pm_card_visa", confirm: true });
  assert.match(setup.id, /^seti_/);
  assert.equal(setup.status, "succeeded");
  await assert.rejects(
    stripe.setupIntents.create({ customer: customer.id, payment_method: "pm_card_chargeDeclined", confirm: true }),
    (err) => {
      assert.equal(err.type, "StripeCardError");
      assert.equal(err.decline_code, "generic_decline");
      assert.equal(err.setup_intent.status, "requires_payment_method");
      assert.equal(err.setup_intent.last_setup_error.code, "card_declined");
      return true;
    },
  );
  const challenged = await stripe.setupIntents.create({
    customer: customer.id,
    payment_method: "pm_card_authenticationRequired",
    confirm: true,
    return_url: successUrl,
  });
  assert.equal(challenged.status, "requires_action");
  assert.equal(challenged.next_action.type, "redirect_to_url");
  const setupSession = await stripe.checkout.sessions.create({
    mode: "setup",
    customer: customer.id,
    success_url: successUrl,
  });
  assert.equal(setupSession.payment_status, "no_payment_required");
  const found = await stripe.customers.search({ query: "email:'node@example.com'" });
  assert.deepEqual(found.data.map((c) => c.id), [customer.id]);
  const other = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: successUrl,
  });
  const expired = await stripe.checkout.sessions.expire(other.id);
  assert.equal(expired.status, "expired");
  await assert.rejects(stripe.checkout.sessions.create({ mode: "subscription", success_url: successUrl }), (err) => {
    assert.equal(err.type, "StripeInvalidRequestError");
    assert.equal(err.param, "mode");
    return true;
  });
  console.log(JSON.stringify({ session: session.id, url: session.url, link: link.id, link_url: link.url }));
} else if (command === "verify") {
  const [sessionId, linkId] = args;
  const session = await stripe.checkout.sessions.retrieve(sessionId);
  assert.equal(session.status, "complete");
  assert.equal(session.payment_status, "paid");
  const items = await stripe.checkout.sessions.listLineItems(sessionId);
  assert.deepEqual(items.data.map((i) => [i.description, i.quantity]), [["Node mug", 2]]);
  const pi = await stripe.paymentIntents.retrieve(session.payment_intent);
  assert.equal(pi.status, "succeeded");
  const charges = await stripe.charges.search({ query: `payment_intent:'${pi.id}'` });
  assert.equal(charges.data.length, 1);
  const intents = await stripe.paymentIntents.search({ query: `status:'succeeded' AND amount:2400` });
  assert.deepEqual(intents.data.map((i) => i.id), [pi.id]);
  const fromLink = await stripe.checkout.sessions.list({ payment_link: linkId });
  assert.equal(fromLink.data.length, 2);
  console.log("verified");
} else {
  throw new Error(`unknown command ${command}`);
}

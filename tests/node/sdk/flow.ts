// A payment through a TypeScript client generated from docs/openapi.json: the types by
// openapi-typescript, the requests by openapi-fetch. A currency and metadata are plain values —
// a `string` read at run time and an object — which only type-check if the schema says so.
// Usage (after generating ./payintents.d.ts and compiling): PAYINTENTS_URL=… PAYINTENTS_SECRET_KEY=… node flow.js
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { components, paths } from "./payintents.js";

type CreateBody = components["schemas"]["PaymentIntentCreateRequest"];

const client = createClient<paths>({
  baseUrl: process.env.PAYINTENTS_URL,
  headers: { Authorization: `Bearer ${process.env.PAYINTENTS_SECRET_KEY}` },
});
const step = (name: string, detail = "") => console.log(`ok ${name}${detail ? ` ${detail}` : ""}`);

// create: any currency the deployment takes, as a string; metadata as an object
const currency: string = process.env.PAYINTENTS_CURRENCY ?? "usd";
const metadata: { [key: string]: string } = { order_id: "6735" };
const body: CreateBody = { amount: 2000, currency, capture_method: "manual", metadata };
const created = await client.POST("/v1/payment_intents", { body });
assert.equal(created.response.status, 200, JSON.stringify(created.error));
const intent = created.data!;
assert.match(intent.id, /^pi_/);
assert.equal(intent.currency, currency);
assert.deepEqual(intent.metadata, { order_id: "6735" });
step("create", intent.currency);

// confirm and capture part
const confirmed = await client.POST("/v1/payment_intents/{id}/confirm", {
  params: { path: { id: intent.id } },
  body: { payment_method: "pm_card_visa" },
});
assert.equal(confirmed.data?.status, "requires_capture", JSON.stringify(confirmed.error));
const captured = await client.POST("/v1/payment_intents/{id}/capture", {
  params: { path: { id: intent.id } },
  body: { amount_to_capture: 1500 },
});
assert.equal(captured.data?.amount_received, 1500, JSON.stringify(captured.error));
step("capture", String(captured.data?.amount_received));

// metadata updated with a plain object: an empty value removes its key
const updated = await client.POST("/v1/payment_intents/{id}", {
  params: { path: { id: intent.id } },
  body: { metadata: { order_id: "", channel: "web" } },
});
assert.deepEqual(updated.data?.metadata, { channel: "web" }, JSON.stringify(updated.error));
step("update", JSON.stringify(updated.data?.metadata));

// a currency the deployment does not take: the documented 400, parsed
const refused = await client.POST("/v1/payment_intents", { body: { amount: 2000, currency: "xyz" } });
assert.equal(refused.response.status, 400);
assert.equal(refused.error?.error.param, "currency");
step("refused", refused.error?.error.code);
console.log("flow complete");

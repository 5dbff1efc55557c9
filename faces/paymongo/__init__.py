"""PayMongo's face (`/paymongo/v1/`): its JSON:API shapes, statuses, errors, pagination and
webhooks over the same intents, payment methods, charges and refunds as the Stripe dialect."""

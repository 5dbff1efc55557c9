"""Payload's face (`/payload/`): its `intent` object over the service's checkout intents, its
decimal amounts, lists, errors and transactions."""

"""The domain core: what every app shares, with no HTTP in it and no import of any app.

Typed errors (`errors`), money and currency rules (`money`), metadata rules (`metadata`), prefixed
ids (`ids`), the request context services read when they write events (`context`), the caller's
`Scope` (`scope`), the abstract `ScopedModel` (`models`), `first_or_missing` for selectors
(`selectors`), `UNSET` and `unix` (`values`), and `enqueue` (`enqueue`), the seam through which
services ask for worker tasks by name.
"""

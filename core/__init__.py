"""The domain core: what every app shares and nothing in it knows HTTP.

Typed errors (`errors`), money and currency rules (`money`), metadata rules (`metadata`), prefixed
ids (`ids`), the request context services read when they write events (`context`), the caller's
`Scope` (`scope`), the abstract `ScopedModel` (`models`) and two small values (`UNSET`, `unix`).
Nothing here imports an app of the project.
"""

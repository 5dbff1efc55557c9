from rest_framework.metadata import BaseMetadata
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer


class StripeJSONRenderer(JSONRenderer):
    """Compact UTF-8 JSON, whatever the client asked for in Accept."""

    charset = None  # "application/json", as Stripe sends it; JSON is UTF-8 by definition
    compact = True

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # A lone surrogate echoed back (the parser refuses them; this is the last guard):
            # \u-escaped ASCII JSON is the same document, never a 500.
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)


class AlwaysJSONNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if not content_type:
            return parsers[0]
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class MinimalMetadata(BaseMetadata):
    """`OPTIONS` answers 200 `{}` with the `Allow` header: no view names, no docstrings, no
    field descriptions (the OpenAPI document at /openapi.json is the description)."""

    def determine_metadata(self, request, view) -> dict:
        return {}

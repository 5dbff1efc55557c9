from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer


class StripeJSONRenderer(JSONRenderer):
    """Compact UTF-8 JSON, whatever the client asked for in Accept."""

    charset = None  # "application/json", as Stripe sends it; JSON is UTF-8 by definition
    compact = True


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

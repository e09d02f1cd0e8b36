"""The API's content negotiation (DRF's DEFAULT_CONTENT_NEGOTIATION_CLASS): its own module,
as DRF's views import it while they load."""

from __future__ import annotations

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JsonWhateverAccepted(DefaultContentNegotiation):
    """JSON when the client's Accept names nothing the view offers (`text/html`, say),
    rather than 406: the legacy Worker ignored Accept, and devices' HTTP clients vary."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type

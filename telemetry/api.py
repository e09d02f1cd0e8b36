"""The base of our JSON endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.views import APIView

# Accept headers (or none) for which DRF's negotiation picks the first renderer as it is:
# no media-type parameters (`indent`), no other type to weigh.
PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})

# A handler that answers directly: the JSON data and the headers of a 200.
DirectHandler = Callable[[HttpRequest], tuple[dict[str, Any], dict[str, str]]]


class JsonApiView(APIView):
    """An APIView that answers a wrong method with 405 before asking for credentials; a hot
    path may answer without DRF's request machinery (`answer_directly`)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def answers_plain_json(self, request: HttpRequest) -> bool:
        """Whether DRF would answer `request` with the view's only renderer, as it is."""
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        return accept in PLAIN_ACCEPTS and len(self.renderer_classes) == 1

    def answer_directly(self, request: HttpRequest, handler: DirectHandler) -> HttpResponse:
        """Run `handler` without DRF's request wrapper, negotiation, parsers, permissions
        and template response: the handler authenticates and parses itself. The answer is
        what DRF would send (for a request `answers_plain_json` accepts): a 200 rendered
        by the same renderer with the same headers, and every error through DRF's own
        exception handling."""
        try:
            data, headers = handler(request)
        except Exception as exc:  # answered, or raised again, as DRF would
            return self._answer_error(request, exc)
        renderer = self.renderer_classes[0]()
        content_type = renderer.media_type
        if renderer.charset:
            content_type = f"{content_type}; charset={renderer.charset}"
        response = HttpResponse(renderer.render(data), content_type=content_type)
        # In DRF's order: the handler's headers, then the view's (Allow, as one renderer).
        for name, value in (*headers.items(), *self.default_response_headers.items()):
            response[name] = value
        return response

    def _answer_error(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        # What DRF's dispatch does with an exception from a handler.
        self.request = self.initialize_request(request, *self.args, **self.kwargs)
        self.headers = self.default_response_headers
        response = self.handle_exception(exc)
        self.response = self.finalize_response(self.request, response, *self.args, **self.kwargs)
        return self.response

"""The Content-Security-Policy of every page the project serves: its own origin only, no
inline script or style, no eval, no framing. The rep's app (`fieldapp.views`) widens
`connect-src` for presigned photo uploads; every other HTML answer (HQ pages, the admin,
the API docs, error pages) gets the policy from `ContentSecurityPolicyMiddleware`.

HQ pages carry no inline script or style (their scripts are static files), so nothing is
let in by 'unsafe-inline'; a page that someone later gives an inline script breaks
visibly in the browser instead of quietly opening a door for injected markup.
"""

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def content_security_policy(*, connect_src: Iterable[str] = (), app: bool = False) -> str:
    """Own origin only; `connect_src` adds origins the page may send requests to. `app`:
    the directives a service-worker app needs besides (worker and manifest)."""
    connect = ["'self'", *connect_src]
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        f"connect-src {' '.join(connect)}",
    ]
    if app:
        directives += ["worker-src 'self'", "manifest-src 'self'"]
    directives += [
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    """The strict policy on every HTML answer that does not set its own. DRF's browsable
    API (DEBUG only: production renders JSON) keeps its inline scripts and gets none."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER in response:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        renderer = getattr(response, "accepted_renderer", None)
        if renderer is not None and getattr(renderer, "format", "") == "api":
            return response
        response[HEADER] = self.policy
        return response

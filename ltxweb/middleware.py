"""django-csp's middleware, minus the policy on a 304.

django-csp builds the policy string afresh for every response (twice: enforced and
report-only), even one it then leaves alone: a noticeable share of a polling card's 304,
which does little else. A 304 has no body to protect, and the browser keeps the headers of
the response it stored, policy included (RFC 9111, 4.3.4), so it goes out without one.
"""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request, response):
        if response.status_code == 304:
            return response
        return super().process_response(request, response)

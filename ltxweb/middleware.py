"""django-csp's middleware, minus the policy on a 304: building it is a noticeable share of a
polling card's 304, which has no body to protect; the browser keeps the stored response's
policy (RFC 9111, 4.3.4)."""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request, response):
        if response.status_code == 304:
            return response
        return super().process_response(request, response)

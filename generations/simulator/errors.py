"""The one way a request fails in the simulator: raise Refusal, and the handler answers
with the documented status and error envelope."""


class Refusal(Exception):
    """An error answer: status, documented type and message (and maybe Retry-After)."""

    def __init__(self, status: int, error_type: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.retry_after = retry_after

"""A refused request (403, 404, 400) is the visitor's doing, not a fault: Django logs it with
the exception's traceback, which buries real errors, so its record keeps the one line."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True

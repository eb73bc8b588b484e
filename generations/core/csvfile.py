"""CSV downloads: the spend tables, the ledger, manifests and comment exports."""

import csv
import io

from django.http import HttpResponse


def csv_text(value) -> str:
    """A cell a spreadsheet will not run as a formula (text cells only: amounts are numbers)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def csv_document(header: list[str], rows) -> str:
    """The CSV text of a table, for a file inside an archive."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()

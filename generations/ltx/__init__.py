"""The LTX-2 API: its rules, prices, errors and a client. No Django imports here."""

from generations.ltx.client import LTXClient

__all__ = ["LTXClient"]

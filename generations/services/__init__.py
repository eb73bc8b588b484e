"""Writes: plain keyword-only functions called alike by views, tasks, commands and the API."""

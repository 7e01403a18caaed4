"""Renderings of the core's JSON for people: terminal tables and a standalone HTML page.

Views only format what ``core.metrics`` and ``core.history`` computed; they hold
no rule of their own, so the CLI, the language server and the page always agree.
"""

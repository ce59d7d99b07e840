"""Errors of the site stage; the CLI turns them into one-line messages and exit codes."""

from __future__ import annotations


class SiteError(Exception):
    """The site cannot be built; the message says what to do."""


class MkdocsFailed(SiteError):
    """`mkdocs build --strict` reported warnings or errors (the log is in the message)."""

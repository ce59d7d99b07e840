"""The static site: results -> tables, charts and pages (jinja2, altair) -> mkdocs build.

Modules: data (what pages read), leaderboard (ranks and averages), fmt (every number's text),
escape (untrusted text per context), tables, charts, boarddata (the compact JSON the browser
renders), pages/ (one module per page kind, each with its context object), api (api/v1 files),
assets (pinned browser libraries), render (jinja2), build and commands (the CLI).
"""

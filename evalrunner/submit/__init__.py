"""Submissions by pull request: what a PR changes, whether history stays append-only, and the
preview comment.

Modules: `gitrev` (read results/ at a git revision without running anything from it), `history`
(the append-only rule and the changelog events), `plausibility` (warnings, never errors),
`lmeval` (lm-eval results JSON -> scores), `submit` (the files a PR needs), `preview` (the diff
report and its Markdown), `markdown` (escaping for a GitHub comment), `commands` (the CLI).
"""

"""The fixture site for the site tests: built once per session from the synthetic tree
(tests/site_tree.py) and served on 127.0.0.1 by an in-process http.server.

Tests that use it are marked `xdist_group("site")`, so under `pytest -n 2 --dist loadgroup` they
share one worker and one build.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from site_tree import build_site_tree

from evalrunner.site.build import BuildOptions, build_site

REPO = Path(__file__).resolve().parents[1]
STAMP = "TEST-STAMP"


@dataclass(frozen=True)
class BuiltSite:
    results: Path
    docs: Path
    site: Path
    origin: str  # http://127.0.0.1:PORT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_fixture_site(base: Path, site_url: str) -> tuple[Path, Path, Path]:
    results = build_site_tree(base / "results")
    docs, site = base / "docs", base / "site"
    build_site(BuildOptions(results=results, out=site, docs=docs, src=REPO / "site_src",
                            config=REPO / "mkdocs.yml", node_modules=REPO / "node_modules",
                            site_url=site_url, stamp=STAMP))
    return results, docs, site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


_CACHE: dict[str, BuiltSite] = {}


def get_site(tmp_path_factory) -> BuiltSite:
    """Build and serve the fixture site once per process."""
    if "site" not in _CACHE:
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        results, docs, site = build_fixture_site(tmp_path_factory.mktemp("site"), origin + "/")
        handler = functools.partial(_Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _CACHE["site"] = BuiltSite(results, docs, site, origin)
    return _CACHE["site"]

"""Fragments: HTML that many pages show and that changes without them.

Capacity density moves whenever a reference family's fits move, which is every model and every
family at once (one new checkpoint of a reference family would generate and render a
thousand model pages again). So a model page's block holds only a reference,
`<!--dm:fragment model_density/<model>-->`; the fragment, its HTML, is a file of its own,
`<docs>/_blocks/_fragments/<name>/<key>.json` (a JSON string), generated as a unit of its own
(pagecache.py: kinds model_density and family_density); and the densitometer-blocks plugin puts
it in after the page's blocks, between markers it leaves in the page:
`<!--dm:fragment model_density/<model>-->html<!--/dm:fragment-->`.

What that buys:
- a model or family unit does not depend on densities (pagecache.UNIT_TABLES), so it is not
  generated again when only they change, and each fragment unit is small;
- a dirty mkdocs build whose only change for a page is a fragment patches the finished HTML
  between the markers instead of rendering the page again (`patch_pages`, mkdocs_build.py), which
  gives the same bytes: the search index and the table of contents never see blocks.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

from markupsafe import Markup

from evalrunner.results.write import atomic_write_bytes

from .blocks import FOLDER, BlockError

SUBFOLDER = "_fragments"  # under blocks.FOLDER: excluded from the site with it
DATA = "data/fragments"  # the data a fragment offers for download (a chart's CSV), published
_NAME = r"[a-z][a-z0-9_]{0,39}"
# an id (results/schema.py), or ids joined by '@', which no id holds (family@setting)
_KEY = r"[A-Za-z0-9][A-Za-z0-9._+@-]{0,240}"
_FULL = re.compile(f"{_NAME}/{_KEY}")
_REF = re.compile(rf"<!--dm:fragment ({_NAME}/{_KEY})-->")
END = "<!--/dm:fragment-->"
_PLACED = re.compile(rf"<!--dm:fragment ({_NAME}/{_KEY})-->(.*?){re.escape(END)}", re.S)


def reference(name: str, key: str) -> Markup:
    """What a page's block holds where the fragment goes."""
    return Markup(f"<!--dm:fragment {_checked(f'{name}/{key}')}-->")


def _checked(ref: str) -> str:
    if not _FULL.fullmatch(ref):
        raise BlockError(f"fragment {ref!r}: expected <name>/<id>, name {_NAME}, id {_KEY}")
    return ref


def path_for(docs: Path, ref: str) -> Path:
    """Where the fragment `ref` ('<name>/<key>') lives under docs (checked: a name and an id,
    no path that leaves the folder)."""
    return docs / FOLDER / SUBFOLDER / f"{_checked(ref)}.json"


def _check(ref: str, html: object) -> str:
    if not isinstance(html, str):
        raise BlockError(f"fragment {ref}: expected an HTML string")
    if "<!--dm:fragment" in html or END in html:
        raise BlockError(f"fragment {ref}: holds a fragment marker (fragments never nest)")
    return html


def file(name: str, key: str, html: str) -> tuple[str, str]:
    """(path relative to docs, text) of the fragment file."""
    ref = f"{name}/{key}"
    _check(ref, html)
    return path_for(PurePosixPath(), ref).as_posix(), json.dumps(html, ensure_ascii=False) + "\n"


def digest(html: str) -> str:
    return hashlib.blake2b(html.encode(), digest_size=12).hexdigest()


class Library:
    """The fragments of a docs folder, each file read once, when a page first asks for it."""

    def __init__(self, docs: Path):
        self._docs = Path(docs)
        self._found: dict[str, str] = {}

    def get(self, ref: str) -> str:
        html = self._found.get(ref)
        if html is None:
            html = self._found[ref] = self._load(ref)
        return html

    def _load(self, ref: str) -> str:
        path = path_for(self._docs, ref)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BlockError(f"fragment {ref}: {path} does not exist") from None
        except (OSError, ValueError) as exc:
            raise BlockError(f"{path}: expected a JSON string of HTML ({exc})") from exc
        return _check(ref, doc)


def _put(pattern: re.Pattern[str], html: str, library: Library) -> tuple[str, list[str]]:
    """Each match of `pattern` (group 1: the reference) replaced by the library's fragment
    between markers; the references in order."""
    refs: list[str] = []

    def put(match: re.Match[str]) -> str:
        refs.append(match.group(1))
        return f"<!--dm:fragment {match.group(1)}-->{library.get(match.group(1))}{END}"

    return pattern.sub(put, html), refs


def fill(html: str, library: Library) -> tuple[str, list[str]]:
    """(a freshly rendered page with every fragment put in after its reference, the references
    in order)."""
    return _put(_REF, html, library)


def patch(html: str, library: Library) -> tuple[str, list[str]]:
    """(a finished page with each placed fragment replaced by the library's current one, the
    references in order)."""
    return _put(_PLACED, html, library)


# ---------------------------------------------------------------------------------------------
# Dirty builds (mkdocs_build.py): the last build's pages and the fragments they show

Uses = dict[str, list[str]]  # a page's source (src_uri) -> its references, in page order


def state(uses: Uses, library: Library) -> dict:
    """What the next dirty build needs: each page's references and each fragment's digest."""
    refs = sorted({r for page in uses.values() for r in page})
    return {"pages": uses, "digests": {r: digest(library.get(r)) for r in refs}}


def read_state(doc: object) -> tuple[Uses, dict[str, str]] | None:
    """(uses, digests) from a saved state, or None if it is not one."""
    if not isinstance(doc, dict):
        return None
    pages, digests = doc.get("pages"), doc.get("digests")
    if not (isinstance(pages, dict) and isinstance(digests, dict)):
        return None
    if not all(isinstance(refs, list) and all(isinstance(r, str) for r in refs)
               for refs in pages.values()):
        return None
    return {str(k): list(v) for k, v in pages.items()}, {str(k): str(v)
                                                         for k, v in digests.items()}


def patch_pages(outputs: dict[str, Path], uses: Uses, digests: dict[str, str],
                library: Library) -> tuple[int, int]:
    """Patch the finished page of each source in `outputs` (source -> its HTML file) that shows
    a fragment whose digest changed. A page that cannot be patched (a fragment gone, markers
    missing or not the recorded ones) is deleted instead: the dirty build then renders it.
    Returns (patched, deleted)."""
    patched = deleted = 0
    for src, path in outputs.items():
        refs = uses.get(src, [])
        try:
            if all(digests.get(r) == digest(library.get(r)) for r in refs):
                continue
            html, found = patch(path.read_bytes().decode("utf-8"), library)  # newlines as they are
        except (OSError, UnicodeDecodeError, BlockError):
            found, html = None, ""
        if found != refs:
            path.unlink(missing_ok=True)
            deleted += 1
            continue
        atomic_write_bytes(path, html.encode("utf-8"), durable=False)
        patched += 1
    return patched, deleted

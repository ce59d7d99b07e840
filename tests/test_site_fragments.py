"""Fragments (evalrunner/site/fragments.py): HTML many pages show, put in after their blocks and
patched in place when only it changed. Unit tests; the site-level ones (patching gives the bytes
of a clean build) are in test_site_mkdocs_incremental.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalrunner.site import fragments
from evalrunner.site.blocks import BlockError


def _library(docs: Path, entries: dict[str, str], name: str = "density") -> fragments.Library:
    for key, html in entries.items():
        rel, text = fragments.file(name, key, html)
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(text, encoding="utf-8")
    return fragments.Library(docs)


@pytest.mark.parametrize("name, key", [("density", "a-->b"), ("density", "a b"),
                                       ("Density", "a"), ("density", ""), ("den/sity", "a"),
                                       ("density", "<script>"), ("density", "../../x"),
                                       ("density", "a/../../b")])
def test_a_reference_is_only_made_of_safe_ids(tmp_path, name, key):
    with pytest.raises(BlockError, match="expected <name>/<id>"):
        fragments.reference(name, key)
    with pytest.raises(BlockError, match="expected <name>/<id>"):
        fragments.file(name, key, "<p>x</p>")
    with pytest.raises(BlockError, match="expected <name>/<id>"):
        fragments.Library(tmp_path).get(f"{name}/{key}")


@pytest.mark.parametrize("html", ["<p>x</p><!--dm:fragment density/a-->",
                                  "<p>x</p><!--/dm:fragment-->", 3])
def test_a_fragment_never_holds_a_marker(tmp_path, html):
    with pytest.raises(BlockError, match="density/a"):
        fragments.file("density", "a", html)
    # nor does one planted in the docs folder pass
    path = fragments.path_for(tmp_path, "density/a")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(html))
    with pytest.raises(BlockError, match="density/a"):
        fragments.Library(tmp_path).get("density/a")


def test_a_missing_or_malformed_fragment_is_an_error_naming_it(tmp_path):
    with pytest.raises(BlockError, match=r"density/a: .*_fragments/density/a\.json does not"):
        fragments.Library(tmp_path).get("density/a")
    _library(tmp_path, {"b": "<p>b</p>"})
    fragments.path_for(tmp_path, "density/b").write_text("{not json")
    with pytest.raises(BlockError, match="expected a JSON string of HTML"):
        fragments.Library(tmp_path).get("density/b")


def test_fill_then_patch(tmp_path):
    page = (f"<h2>A</h2>{fragments.reference('density', 'm-1')}<p>between</p>"
            f"{fragments.reference('density', 'm.2')}<p>end</p>")
    filled, refs = fragments.fill(page, _library(tmp_path, {"m-1": "<p>one</p>",
                                                            "m.2": "<p>two</p>"}))
    assert refs == ["density/m-1", "density/m.2"]
    assert filled == ("<h2>A</h2><!--dm:fragment density/m-1--><p>one</p><!--/dm:fragment-->"
                      "<p>between</p><!--dm:fragment density/m.2--><p>two</p>"
                      "<!--/dm:fragment--><p>end</p>")
    new = _library(tmp_path, {"m-1": "<p>uno</p>", "m.2": "<p>two</p>"})
    patched, again = fragments.patch(filled, new)
    assert again == refs
    assert patched == fragments.fill(page, new)[0]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)
                .filter(lambda t: "<!--" not in t and "-->" not in t), min_size=2, max_size=2))
def test_patching_equals_filling_for_any_text(tmp_path_factory, texts):
    """Whatever the fragments hold (line breaks of any kind, non-ASCII), patching a filled page
    gives exactly the page filled with the new fragments."""
    docs = tmp_path_factory.mktemp("docs")
    page = f"a\r\n{fragments.reference('density', 'x')}\rb\n"
    filled, _ = fragments.fill(page, _library(docs, {"x": texts[0]}))
    new = _library(docs, {"x": texts[1]})
    assert fragments.patch(filled, new)[0] == fragments.fill(page, new)[0]


def test_patch_pages_patches_changed_ones_and_deletes_what_it_cannot(tmp_path):
    docs, site = tmp_path / "docs", tmp_path / "site"
    old = _library(docs, {"a": "<p>a</p>", "b": "<p>b</p>", "c": "<p>c</p>"})
    pages = {}
    for key in "abc":
        pages[key] = site / key / "index.html"
        pages[key].parent.mkdir(parents=True)
        html, _ = fragments.fill(f"<main>{fragments.reference('density', key)}</main>\r\n", old)
        pages[key].write_bytes(html.encode())
    uses = {f"{k}/index.md": [f"density/{k}"] for k in "abc"}
    digests = fragments.state(uses, old)["digests"]
    # b's page was tampered with: its markers are gone
    pages["b"].write_text("<main><p>b</p></main>")
    new = _library(docs, {"a": "<p>a2</p>", "b": "<p>b2</p>", "c": "<p>c</p>"})
    unchanged = pages["c"].stat().st_mtime_ns
    patched, deleted = fragments.patch_pages(
        {f"{k}/index.md": pages[k] for k in "abc"}, uses, digests, new)
    assert (patched, deleted) == (1, 1)
    assert pages["a"].read_bytes() == (b"<main><!--dm:fragment density/a--><p>a2</p>"
                                       b"<!--/dm:fragment--></main>\r\n")
    assert not pages["b"].exists()  # the dirty build renders it again
    assert pages["c"].stat().st_mtime_ns == unchanged


def test_read_state_rejects_what_is_not_one():
    assert fragments.read_state({"pages": {"a.md": ["density/a"]}, "digests": {}}) == (
        {"a.md": ["density/a"]}, {})
    for bad in (None, [], {"pages": []}, {"pages": {"a.md": "density/a"}, "digests": {}},
                {"pages": {"a.md": [1]}, "digests": {}}, {"pages": {}}):
        assert fragments.read_state(bad) is None

"""Static files of the site: the pinned browser libraries (from node_modules, installed by
`npm ci`, never committed) and the project's own CSS and JavaScript (site_src/).

The Vega-Lite in node_modules must be the version altair writes specs for (alt.SCHEMA_VERSION):
vega-embed warns in the console otherwise, so a mismatch stops the build here instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import SiteError

VENDOR_DIR = "javascripts/vendor"
# package -> (files inside the package, license file)
VENDOR = {
    "vega": (["build/vega.min.js"], "LICENSE"),
    "vega-lite": (["build/vega-lite.min.js"], "LICENSE"),
    "vega-embed": (["build/vega-embed.min.js"], "LICENSE"),
    "tablesort": (["dist/tablesort.min.js"], "LICENCE"),
}
OWN = ("javascripts", "stylesheets")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


class VendorMissing(SiteError):
    """node_modules lacks a pinned browser library."""


def package_version(node_modules: Path, package: str) -> str:
    return json.loads((node_modules / package / "package.json").read_text())["version"]


def check_vendor(node_modules: Path) -> None:
    for package, (files, license_file) in VENDOR.items():
        for rel in [*files, license_file]:
            if not (node_modules / package / rel).is_file():
                raise VendorMissing(
                    f"{node_modules / package / rel}: missing. The site copies its JavaScript "
                    "libraries from node_modules: run `npm ci` in the repository root first.")
    import altair as alt

    want = alt.SCHEMA_VERSION.lstrip("v")
    found = package_version(node_modules, "vega-lite")
    if found != want:
        raise VendorMissing(
            f"node_modules/vega-lite is {found}, but altair writes Vega-Lite {want} specs: pin "
            f"vega-lite {want} in package.json, then run `npm install` and `npm ci`.")


def vendor_files(node_modules: Path) -> dict[str, str | bytes]:
    """The libraries (source-map comments stripped) and their licenses, by path under docs."""
    check_vendor(node_modules)
    out: dict[str, str | bytes] = {}
    for package, (files, license_file) in VENDOR.items():
        for rel in files:
            text = (node_modules / package / rel).read_text(encoding="utf-8")
            out[f"{VENDOR_DIR}/{Path(rel).name}"] = _SOURCE_MAP.sub("", text)
        version = package_version(node_modules, package)
        out[f"{VENDOR_DIR}/{package}-{version}.LICENSE.txt"] = \
            (node_modules / package / license_file).read_bytes()
    return out


def own_files(src: Path) -> dict[str, str | bytes]:
    """site_src/javascripts, site_src/stylesheets and hand-written pages (site_src/pages), by
    path under docs."""
    out: dict[str, str | bytes] = {}
    for name, into in [*((n, f"{n}/") for n in OWN), ("pages", "")]:
        folder = src / name
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                out[into + path.relative_to(folder).as_posix()] = path.read_bytes()
    return out

"""Scale benchmark: every build stage timed separately at N result files.

    python benchmarks/scale.py --files 10000 --json /tmp/scale10k.json

Generates a synthetic tree (synth.py) in a temp dir unless --tree is given, then measures:
- floor: parse every YAML file with libyaml's C loader (one core), nothing else;
- a cold build in a child process, stage by stage: read + validate + load (filling a fresh
  store), metrics, page generation (docs folder), mkdocs build; the child's
  end-to-end wall time is the whole build, its peak RSS (self and its parse workers) the memory;
- incremental rebuilds (`build_site` as `densitometer build` runs it: parse, fit and page
  caches on) after adding one result file to a family that is not a density reference (the
  common case: one model and one family change), then one to the headline reference family
  (the worst case: the reference fits move, so every model's density and every family's
  density over training change);
- the home page in headless Chromium: bytes of HTML + the data it loads, time to interactive
  (the first leaderboard row drawn).
Wall times on a shared machine are inflated, so CPU time (self + children) and the load
average are recorded beside them. Prints a table and writes it as JSON with --json.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _peak_mib() -> float:
    """Peak RSS of this process and of its largest waited-for child (ru_maxrss is in KiB)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return max(s.ru_maxrss, c.ru_maxrss) / 1024


class Clock:
    """Wall and CPU seconds of named stages."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        w, c = time.perf_counter(), _cpu()
        yield
        self.stages[name] = {"wall": time.perf_counter() - w, "cpu": _cpu() - c,
                             "load1": os.getloadavg()[0]}


def _opts(tree: Path, work: Path, site_url: str | None, stamp: str | None = None):
    """`stamp` None: the current minute, as `densitometer build` stamps a rebuild."""
    from evalrunner.site.build import BuildOptions

    return BuildOptions(results=tree, out=work / "site", docs=work / "docs",
                        src=REPO / "site_src", config=REPO / "mkdocs.yml",
                        node_modules=REPO / "node_modules", site_url=site_url, stamp=stamp)


def child_cold(tree: Path, work: Path, site_url: str | None, until: str = "mkdocs") -> dict:
    """The stages of build.generate_docs + run_mkdocs, each timed (cold: empty parse cache);
    `until` stops after the named stage (the data stages alone at sizes where pages are slow)."""
    t0, c0 = time.perf_counter(), _cpu()
    clock = Clock()
    from evalrunner.results.groups import load_tree
    from evalrunner.site import build as sb
    from evalrunner.site.assets import check_vendor
    from evalrunner.site.data import SiteData
    from evalrunner.site.metrics_bridge import compute_metrics

    # stamped like the rebuilds after it (today): a build's Every Eval Ever records are dated
    # by its day, so a fixed date here made the first rebuild remake all of them
    opts = _opts(tree, work, site_url, stamp=sb.default_stamp())
    check_vendor(opts.node_modules)
    shutil.rmtree(sb.open_memo(opts).root, ignore_errors=True)
    memo = sb.open_memo(opts)  # empty: a cold build
    # data.load_site_data's stages, leaving the store it leaves
    with clock.stage("read+validate+load"):
        loaded = load_tree(tree, memo)
        frames = loaded.frames
    with clock.stage("metrics"):
        tables, registry, note, reference, d0 = compute_metrics(
            frames, memo=memo)
        data = SiteData(frames, loaded.tree, tables, registry, note, reference, d0,
                        loaded.digests, loaded.results)
    facts = {"models": int(len(frames.models)), "score_rows": int(len(frames.scores))}
    if until == "metrics":
        return {"stages": clock.stages, "pages": 0, "data_files": 0, **facts,
                "in_process": {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0},
                "peak_mib": _peak_mib()}
    with clock.stage("pages"):
        pages, files = sb.write_docs(data, opts, opts.stamp)
    with clock.stage("mkdocs"):
        sb.run_mkdocs(opts, opts.stamp)
    return {"stages": clock.stages, "pages": pages, "data_files": files,
            **facts, "in_process": {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0},
            "peak_mib": _peak_mib()}


def child_rebuild(tree: Path, work: Path, site_url: str | None) -> dict:
    """`build_site` with the parse cache on (the default), as `densitometer build` runs it."""
    t0, c0 = time.perf_counter(), _cpu()
    from evalrunner.site.build import build_site

    rep = build_site(_opts(tree, work, site_url))
    return {"seconds": rep.seconds, "in_process": {"wall": time.perf_counter() - t0,
                                                   "cpu": _cpu() - c0}, "peak_mib": _peak_mib()}


def _run_child(kind: str, tree: Path, work: Path, site_url: str | None,
               until: str = "mkdocs") -> dict:
    """Run a child stage in a fresh interpreter; adds its wall/CPU seen from outside."""
    out = work / f"{kind}.json"
    w, c = time.perf_counter(), _cpu()
    subprocess.run([sys.executable, __file__, "--child", kind, "--tree", str(tree),
                    "--work", str(work), "--site-url", site_url or "", "--json", str(out),
                    "--until", until],
                   check=True, cwd=REPO)
    res = json.loads(out.read_text())
    res["process"] = {"wall": time.perf_counter() - w, "cpu": _cpu() - c,
                      "load1": os.getloadavg()[0]}
    return res


def floor(tree: Path) -> dict:
    """Read and parse every YAML file with yaml.CSafeLoader, serially: the bare parse cost."""
    import yaml

    w, c = time.perf_counter(), _cpu()
    n = 0
    for path in tree.rglob("*.yaml"):
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
        n += 1
    return {"wall": time.perf_counter() - w, "cpu": _cpu() - c, "files": n,
            "load1": os.getloadavg()[0]}


def add_one_result(tree: Path, reference: bool = False) -> Path:
    """Copy the last result file of the last model of a family as a new later checkpoint of the
    same model (valid, new bytes): the last family that is not a density reference, or with
    `reference` the headline reference family (the first by id, as metrics.compute picks it
    without a configured default). That one's checkpoint moves the reference fits and so every
    model's density and every family's density over training: the worst case."""
    import yaml

    every = sorted(tree.glob("*/family.yaml"))
    families = [f.parent for f in every
                if bool(yaml.safe_load(f.read_text()).get("reference")) == reference]
    families = families or [f.parent for f in every]  # a tiny tree may have one kind only
    src = sorted((families[0] if reference else families[-1]).glob("*/*/*.yaml"))[-1]
    data = yaml.safe_load(src.read_text())
    step = int(data["revision"]["step"]) + 1000
    data["revision"].update({"id": f"step{step}", "step": step,
                             "tokens": int(data["revision"]["tokens"] * 1.01), "final": False})
    dst = src.with_name(f"step{step}.yaml")
    dst.write_text(src.read_text().split("\n", 1)[0] + "\n" + yaml.safe_dump(data, sort_keys=False))
    return dst


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(site: Path, port: int) -> dict:
    """Home page in headless Chromium: the HTML and data fetched until the first board rows
    show, and when (interactive); when every row is in; everything fetched until network idle."""
    from playwright.sync_api import sync_playwright

    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(site)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    got: list[tuple[str, str, int, int]] = []
    arrived: list[str] = []
    try:
        for _ in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.1)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = b.new_page(viewport={"width": 1280, "height": 900})

            def seen(r) -> None:
                with contextlib.suppress(Exception):
                    body = r.body()
                    got.append((r.url, r.request.resource_type, len(body),
                                len(gzip.compress(body, 6))))

            page.on("response", seen)
            # the page's own clock: when the first board rows appear, and which resources had
            # arrived by then (timing in the Python process would include its event handling)
            page.add_init_script("""new MutationObserver(function (m, obs) {
                if (document.querySelector('div.dm-board table tbody tr')) {
                  window.__firstRows = performance.now(); obs.disconnect(); }
              }).observe(document, {childList: true, subtree: true});""")
            page.goto(f"{origin}/")
            page.wait_for_selector("div.dm-board table tbody tr", timeout=60_000)
            # then every row: the status line stops saying it is loading the rest
            page.wait_for_function("() => !document.querySelector('.dm-status')"
                                   ".textContent.includes('loading')", timeout=120_000)
            all_rows = page.evaluate("performance.now()") / 1000
            page.wait_for_load_state("networkidle")
            tti = page.evaluate("window.__firstRows") / 1000
            arrived = page.evaluate("""(t) => performance.getEntriesByType('resource')
                .filter(e => e.responseEnd <= t).map(e => e.name)""", tti * 1000)
            b.close()
    finally:
        server.terminate()
        server.wait()
    first = [g for g in got if g[1] in ("document", "fetch", "xhr")
             and (g[1] == "document" or g[0] in set(arrived))]
    return {"tti_s": tti, "all_rows_s": all_rows, "requests": len(got),
            "html_data_bytes": sum(g[2] for g in first),
            "html_data_gzip_bytes": sum(g[3] for g in first),
            "all_bytes": sum(g[2] for g in got), "all_gzip_bytes": sum(g[3] for g in got),
            "html_data": [(g[0].replace(origin, ""), g[2], g[3]) for g in first]}


def _fmt(name: str, d: dict) -> str:
    return (f"  {name:<22} wall {d['wall']:8.2f} s   cpu {d['cpu']:8.2f} s   "
            f"load {d.get('load1', 0):5.2f}")


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="dm-scale-"))
    try:
        tree = tmp / "results"
        res: dict = {"files_requested": args.files, "cores": os.cpu_count()}
        if args.tree is not None:  # a copy: the benchmark adds a file and a cache beside it
            shutil.copytree(args.tree, tree)
        else:
            sys.path.insert(0, str(Path(__file__).parent))
            from synth import write_tree

            w = time.perf_counter()
            res["synth"] = {**write_tree(tree, args.files, args.seed),
                            "wall": time.perf_counter() - w}
        res["floor"] = floor(tree)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/"
        work = tmp / "work"
        work.mkdir()
        res["cold"] = _run_child("cold", tree, work, url, args.until)
        if args.until == "metrics":
            res["rebuild"], res["browser"] = None, None
            res["summary"] = _summary(res)
            return res
        res["rebuild"] = res["rebuild_reference"] = None
        if not args.no_rebuild:
            res["added"] = str(add_one_result(tree).relative_to(tree))
            res["rebuild"] = _run_child("rebuild", tree, work, url)
            res["added_reference"] = str(add_one_result(tree, reference=True).relative_to(tree))
            res["rebuild_reference"] = _run_child("rebuild", tree, work, url)
        res["browser"] = None if args.no_browser else browser(work / "site", port)
        res["summary"] = _summary(res)
        return res
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _summary(res: dict) -> dict:
    cold = res["cold"]
    rv = cold["stages"]["read+validate+load"]
    return {"full_build_wall": cold["process"]["wall"], "full_build_cpu": cold["process"]["cpu"],
            "peak_mib": cold["peak_mib"],
            "rebuild_wall": res["rebuild"]["process"]["wall"] if res["rebuild"] else None,
            "rebuild_reference_wall": (res["rebuild_reference"]["process"]["wall"]
                                       if res.get("rebuild_reference") else None),
            "validate_over_floor_wall": rv["wall"] / res["floor"]["wall"],
            "validate_over_floor_cpu": rv["cpu"] / res["floor"]["cpu"]}


def report(res: dict) -> None:
    c = res["cold"]
    print(f"{res['floor']['files']} YAML files, {c['models']} models, {c['score_rows']} scores, "
          f"{c['pages']} pages, {res['cores']} cores")
    print(_fmt("floor (CSafeLoader)", res["floor"]))
    for name, d in c["stages"].items():
        print(_fmt(name, d))
    label = "whole build (process)" if c["pages"] else "data stages (process)"
    print(_fmt(label, c["process"]) + f"   peak {c['peak_mib']:.0f} MiB")
    for key, label in (("rebuild", "rebuild +1 file"),
                       ("rebuild_reference", "rebuild +1 ref. file")):
        if res.get(key):
            stages = "  ".join(f"{k} {v:.1f}" for k, v in res[key]["seconds"].items())
            print(_fmt(label, res[key]["process"])
                  + f"   peak {res[key]['peak_mib']:.0f} MiB   ({stages})")
    b = res["browser"]
    if b:
        print(f"  home page: html+data {b['html_data_bytes'] / 1e6:.2f} MB "
              f"({b['html_data_gzip_bytes'] / 1e6:.2f} MB gzip), all {b['all_bytes'] / 1e6:.2f} MB"
              f" ({b['all_gzip_bytes'] / 1e6:.2f} MB gzip), interactive in {b['tti_s']:.2f} s, "
              f"every row in {b['all_rows_s']:.2f} s")
    s = res["summary"]
    print(f"  read+validate+load / floor: wall {s['validate_over_floor_wall']:.2f}x, "
          f"cpu {s['validate_over_floor_cpu']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=1000, help="result files to generate")
    ap.add_argument("--tree", type=Path, default=None, help="an existing results tree")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium check")
    ap.add_argument("--no-rebuild", action="store_true",
                    help="skip the rebuild after adding a result (the browser sees the cold build)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (tree, site)")
    ap.add_argument("--until", choices=["metrics", "mkdocs"], default="mkdocs",
                    help="stop the cold build after this stage (metrics: data stages only)")
    ap.add_argument("--child", choices=["cold", "rebuild"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--site-url", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        url = args.site_url or None
        res = (child_cold(args.tree, args.work, url, args.until) if args.child == "cold"
               else child_rebuild(args.tree, args.work, url))
        args.json.write_text(json.dumps(res))
        return 0
    res = run(args)
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""The report (驾驶舱) checked in a real browser: headless Chromium (Debian's `chromium`).

    python crates/cli/tests/browser/check_report.py --cli target/debug/policy-match

Builds a run to report on — `gen --count 2000 --seed 5 --bad-rows 0.01` (`--count`), `match`, and an
`audit` over claims made from the run (pushed pairs claimed, so some 应享未享 remain, and
pairs nobody is eligible for, so some 不应享而享 appear) — writes `report --audit`, then
checks, in Chromium:

- the page loads with no console message and no network request (Chromium's net log
  holds no URL but the file's own);
- every section heading is in the rendered DOM, and every chart's SVG has bars;
- a screenshot at 1366×768 is not blank, and Chinese is drawn as glyphs: the same
  words and as many unassigned characters (drawn as the missing-glyph box) must not
  render alike, which they do when no CJK font is installed;
- printing to A4 PDF works.

Needs Pillow (to look at the screenshot's pixels). Exit status 0 when every check holds;
1 with the failed checks listed otherwise. `--keep DIR` keeps the report, screenshot and
PDF there.
"""

import argparse
import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

SECTIONS = [
    "一、总览", "二、按服务中心结构", "三、政策措施触达", "四、企业",
    "五、数据缺口（一企一档）", "六、差一点：可解锁条件", "七、风险扫描", "八、数据质量",
]
AS_OF = "2026-11-26"
# No background traffic of the browser's own: what the net log then holds is the page's.
QUIET = [
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--no-first-run", "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def run(cmd):
    """Runs a command of the CLI; 2 (rows rejected) is expected of the bad rows."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 2):
        sys.exit(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def make_run(cli: str, work: pathlib.Path, count: int) -> pathlib.Path:
    pop = work / "pop.parquet"
    run([cli, "gen", "--count", str(count), "--seed", "5", "--bad-rows", "0.01",
         "--out", str(pop)])
    out = work / "run"
    run([cli, "match", "--enterprises", str(pop), "--out", str(out), "--as-of", AS_OF])
    # Claims: every third push claimed (the rest of the benefits are 应享未享), and a
    # measure claimed by enterprises it was not pushed to (不应享而享 where they are not
    # eligible).
    with open(out / "pushes.csv", encoding="utf-8") as f:
        pushes = list(csv.DictReader(f))
    claims = work / "claims.csv"
    with open(claims, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["enterprise_id", "measure_id"])
        for p in pushes[::3]:
            w.writerow([p["enterprise_id"], p["measure_id"]])
        for p in pushes[1::50]:
            w.writerow([p["enterprise_id"], "M012"])
    audit = work / "audit"
    run([cli, "audit", "--enterprises", str(pop), "--claims", str(claims), "--out", str(audit),
         "--as-of", AS_OF])
    report = work / "report.html"
    run([cli, "report", str(out), "--audit", str(audit), "--out", str(report)])
    return report


def chromium(browser: str, url: str, *extra: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [browser, *QUIET, "--enable-logging=stderr", "--v=0", *extra, url],
        capture_output=True, text=True, timeout=180, cwd=cwd,
    )


def console_messages(stderr: str) -> list:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


def requests(net_log: pathlib.Path, own: str) -> list:
    """Every URL the page asked for but its own file. The browser's own traffic (its
    clock, its account checks) starts with no origin (`not an origin`) and is not the
    page's; a request of a `file://` page starts from the opaque origin `null`."""
    log = json.loads(net_log.read_text(encoding="utf-8", errors="replace") or "{}")
    start = log.get("constants", {}).get("logEventTypes", {}).get("URL_REQUEST_START_JOB")
    urls = set()
    for event in log.get("events", []):
        params = event.get("params") or {}
        if event.get("type") == start and params.get("initiator") != "not an origin":
            urls.add(params.get("url", ""))
    return sorted(u for u in urls if u and u != own and not u.startswith(("data:", "about:")))


def ink(png: pathlib.Path) -> float:
    """The share of pixels that are not (near) white."""
    from PIL import Image

    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[240:]) / (image.width * image.height)


def glyphs_are_drawn(browser: str, work: pathlib.Path) -> bool:
    """Whether Chinese words render otherwise than the missing-glyph box."""
    shots = []
    for name, text in [("cjk", "政策找企业驾驶舱"), ("tofu", "\ue000" * 8)]:
        page = work / f"{name}.html"
        page.write_text(
            f'<!DOCTYPE html><meta charset="utf-8"><p style="font-size:48px">{text}</p>',
            encoding="utf-8",
        )
        shot = work / f"{name}.png"
        chromium(browser, page.as_uri(), "--window-size=600,200", f"--screenshot={shot}",
                 cwd=work)
        shots.append(shot.read_bytes())
    return shots[0] != shots[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="the policy-match binary")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--keep", default=None, help="keep the outputs in this folder")
    ap.add_argument("--count", type=int, default=2000, help="enterprises generated")
    args = ap.parse_args()
    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="pm-report-"))
    work.mkdir(parents=True, exist_ok=True)
    failures = []

    report = make_run(os.path.abspath(args.cli), work, args.count)
    url = report.as_uri()
    size = report.stat().st_size

    net_log = work / "net.json"
    dom = chromium(args.chromium, url, "--dump-dom", f"--log-net-log={net_log}", cwd=work)
    if dom.returncode != 0:
        failures.append(f"chromium --dump-dom failed: {dom.stderr[-2000:]}")
    html = dom.stdout
    if console_messages(dom.stderr):
        failures.append(f"console messages: {console_messages(dom.stderr)}")
    if net_log.exists():
        outside = requests(net_log, url)
        if outside:
            failures.append(f"network requests: {outside}")
    else:
        failures.append("no net log written: requests cannot be checked")
    for heading in SECTIONS:
        if f"<h2>{heading}</h2>" not in html:
            failures.append(f"section `{heading}` missing from the rendered page")
    charts = html.count('<figure class="chart')
    empty = [part[:80] for part in html.split('<figure class="chart')[1:]
             if "<svg" in part.split("</figure>")[0] and "<rect" not in part.split("</figure>")[0]]
    if charts < 10 or empty:
        failures.append(f"{charts} charts, of which without bars: {empty}")

    shot = work / "report.png"
    chromium(args.chromium, url, "--window-size=1366,768", f"--screenshot={shot}", cwd=work)
    share = ink(shot) if shot.exists() else 0.0
    if share < 0.02:
        failures.append(f"the screenshot is blank ({share:.1%} ink)")
    if not glyphs_are_drawn(args.chromium, work):
        failures.append("Chinese is drawn as missing-glyph boxes: install fonts-wqy-zenhei")

    pdf = work / "report.pdf"
    chromium(args.chromium, url, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", cwd=work)
    if not pdf.exists() or not pdf.read_bytes().startswith(b"%PDF") or pdf.stat().st_size < 10_000:
        failures.append("printing to PDF failed")

    print(f"report {size // 1024} KiB, {charts} charts, screenshot {share:.1%} ink, "
          f"PDF {pdf.stat().st_size // 1024 if pdf.exists() else 0} KiB")
    for f in failures:
        print(f"FAIL: {f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

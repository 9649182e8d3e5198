#!/usr/bin/env python3
"""Renders a `diagnose report` Markdown file the way a chat or issue tracker would, and screenshots it.

    python3 docs/render-report.py REPORT.md [OUT.png]

Needs Python-Markdown (pip install markdown) and Chromium (apt-get install chromium). The Mermaid flowcharts
are drawn with the mermaid.min.js that the PyPI package artoo-mermaid carries, fetched once with pip into
~/.cache/diagnose-render; without it the Mermaid source is shown as code. Writes OUT.png (default: beside
the report) and the intermediate .html next to it.
"""
import html
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import markdown

MERMAID_PACKAGE = "artoo-mermaid==11.16.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "diagnose-render"

STYLE = """
body { font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; font-size: 15px;
       line-height: 1.5; color: #1f2328; max-width: 980px; margin: 24px auto; padding: 0 24px; }
h1 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; font-size: 2em; }
h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; font-size: 1.5em; margin-top: 1.5em; }
h3 { font-size: 1.25em; margin-top: 1.5em; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 85%; background: #eff1f3; padding: .2em .4em;
       border-radius: 6px; }
pre { background: #f6f8fa; padding: 12px 16px; border-radius: 6px; overflow: auto; line-height: 1.45; }
pre code { background: none; padding: 0; font-size: 12.5px; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; text-align: left; vertical-align: top; }
tr:nth-child(2n) { background: #f6f8fa; }
li.task { list-style: none; margin-left: -1.4em; }
details { margin: 8px 0 16px; } summary { cursor: pointer; color: #59636e; }
pre.mermaid { background: none; text-align: center; }
hr { border: 0; border-top: 1px solid #d1d9e0; margin: 24px 0; }
"""


def mermaid_js():
    """The path of mermaid.min.js from the artoo-mermaid wheel, downloaded once; None when pip cannot get it."""
    target = CACHE / "mermaid.min.js"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    # The wheel is pure data; ask for it as for Python 3.12 whatever runs this script.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.12", MERMAID_PACKAGE, "-d", str(CACHE)],
        capture_output=True, text=True)
    wheels = sorted(CACHE.glob("artoo_mermaid-*.whl"))
    if result.returncode != 0 or not wheels:
        print(f"note: cannot fetch {MERMAID_PACKAGE} ({result.stderr.strip()[:200]}); showing Mermaid source",
              file=sys.stderr)
        return None
    with zipfile.ZipFile(wheels[-1]) as wheel:
        target.write_bytes(wheel.read("artoo_mermaid/assets/mermaid.min.js"))
    return target


def to_html(text, script):
    # Python-Markdown reads Markdown inside HTML blocks only when told to.
    text = text.replace("<details>", '<details markdown="1">')
    body = markdown.markdown(text, extensions=["fenced_code", "tables", "md_in_html", "sane_lists"])
    body = re.sub(r"<li>\[ \] ", '<li class="task"><input type="checkbox" disabled> ', body)
    if script:
        body = re.sub(r'<pre><code class="language-mermaid">(.*?)</code></pre>',
                      r'<pre class="mermaid">\1</pre>', body, flags=re.S)
        tail = (f'<script src="{script.as_uri()}"></script>\n'
                '<script>mermaid.initialize({ startOnLoad: false });\n'
                'mermaid.run().finally(() => { document.body.dataset.height = document.body.scrollHeight; });</script>')
        # Open every decision tree so the screenshot shows them.
        body = body.replace("<details", "<details open")
    else:
        tail = "<script>document.body.dataset.height = document.body.scrollHeight;</script>"
    return f"<!doctype html><meta charset=utf-8><style>{STYLE}</style>\n<body>{body}\n{tail}</body>"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    source = Path(sys.argv[1]).resolve()
    png = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else source.with_suffix(".png")
    page = png.with_suffix(".html")
    page.write_text(to_html(source.read_text(), mermaid_js()))
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--virtual-time-budget=8000"]
    # First ask the page how tall it is once drawn, then take a screenshot of exactly that.
    dom = subprocess.run(browser + ["--window-size=1040,1000", "--dump-dom", page.as_uri()],
                         check=True, capture_output=True, text=True).stdout
    measured = re.search(r'data-height="(\d+)"', dom)
    height = int(measured.group(1)) + 48 if measured else 6000
    subprocess.run(browser + [f"--window-size=1040,{height}", f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True)
    print(png)


if __name__ == "__main__":
    main()

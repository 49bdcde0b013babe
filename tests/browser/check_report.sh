#!/usr/bin/env bash
# Renders a run folder's report.html in headless Chromium and checks what a reader would see:
# the DOM has the verdict table and one inline <svg> per chart in charts/, the screenshot is
# a real picture (not missing, not a single colour), and at the default width (1400 px) and at
# 800 px the page does not scroll sideways (wide tables scroll in their own box, charts scale).
# Installs Debian's chromium when missing (needs root on a fresh Debian machine).
# Usage: tests/browser/check_report.sh RUN_DIR
# Outputs: RUN_DIR/browser/report.png (screenshot), RUN_DIR/browser/report-800.png (at 800 px),
# RUN_DIR/browser/report.dom.html, and per width RUN_DIR/browser/width-<px>.dom.html (the DOM
# of a copy of the report with a measuring script; the report itself has no script).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 RUN_DIR" >&2
    exit 2
fi
run_dir=$(cd "$1" && pwd)
report="$run_dir/report.html"
[ -f "$report" ] || { echo "FAIL: $report does not exist" >&2; exit 1; }

browser=""
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
    echo "chromium not found: installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    browser=chromium
fi

out="$run_dir/browser"
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile")

rm -f "$out/report.png" "$out/report-800.png" "$out/report.dom.html" "$out"/width-*.dom.html
"$browser" "${flags[@]}" --window-size=1400,3000 --screenshot="$out/report.png" \
    "file://$report" >/dev/null 2>"$out/chromium.log" || true
"$browser" "${flags[@]}" --window-size=800,3000 --screenshot="$out/report-800.png" \
    "file://$report" >/dev/null 2>>"$out/chromium.log" || true
"$browser" "${flags[@]}" --dump-dom "file://$report" >"$out/report.dom.html" 2>>"$out/chromium.log" || true

# A copy of the report with a script that measures the page once laid out: the document's
# scroll width against the viewport's, and the elements sticking out of it (but inside boxes
# that scroll or clip on their own, and inside charts), written into the DOM for --dump-dom.
measure="$out/report.measure.html"
python3 - "$report" "$measure" <<'PY'
import sys

page = open(sys.argv[1], encoding="utf-8").read()
script = """<script>
(function () {
  var root = document.documentElement, limit = root.clientWidth, over = [];
  function clipped(e) {
    for (var p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  }
  document.querySelectorAll("body *").forEach(function (e) {
    if (e.ownerSVGElement || clipped(e)) return;
    var r = e.getBoundingClientRect();
    if (r.right > limit + 0.5 && over.length < 8) {
      var cls = typeof e.className === "string" && e.className ? "." + e.className : "";
      over.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + cls + " right " + Math.round(r.right));
    }
  });
  var m = document.createElement("pre");
  m.id = "layout-measure";
  m.setAttribute("data-scroll-width", root.scrollWidth);
  m.setAttribute("data-client-width", limit);
  m.textContent = over.join("\\n");
  document.body.appendChild(m);
})();
</script>
"""
if "</body>" not in page:
    sys.exit("report.html has no </body>")
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", script + "</body>", 1))
PY
widths=(1400 800)
for w in "${widths[@]}"; do
    "$browser" "${flags[@]}" --window-size="$w,3000" --dump-dom "file://$measure" \
        >"$out/width-$w.dom.html" 2>>"$out/chromium.log" || true
done

expected=$(find "$run_dir/charts" -maxdepth 1 -name '*.svg' 2>/dev/null | wc -l)
python3 - "$out/report.dom.html" "$out/report.png" "$expected" "$out" "${widths[@]}" <<'PY'
import re, struct, sys, zlib

dom_path, png_path, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
out_dir, widths = sys.argv[4], [int(w) for w in sys.argv[5:]]
failures = []

for w in widths:
    try:
        measured = open(f"{out_dir}/width-{w}.dom.html", encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        failures.append(f"at {w} px: no DOM was dumped")
        continue
    m = re.search(r'<pre id="layout-measure" data-scroll-width="(\d+)" data-client-width="(\d+)">(.*?)</pre>',
                  measured, re.S)
    if m is None:
        failures.append(f"at {w} px: the measuring script left no result")
        continue
    scroll, client, over = int(m.group(1)), int(m.group(2)), m.group(3).strip()
    # The viewport is the window less any scroll bar: never wider than the window.
    if client > w or client < w - 40:
        failures.append(f"at {w} px: the viewport is {client} px wide (the window size was ignored?)")
    if scroll > client:
        detail = "; ".join(over.splitlines()) or "no single element found"
        failures.append(f"at {w} px the page scrolls sideways: {scroll} px of content in {client} px ({detail})")
    else:
        print(f"at {w} px: no sideways scroll ({scroll} px of content in {client} px)")

dom = open(dom_path, encoding="utf-8", errors="replace").read()
if 'id="verdict"' not in dom or "<table" not in dom:
    failures.append("the DOM has no verdict table (table#verdict)")
svgs = dom.count("<svg")
if expected == 0:
    failures.append("charts/ holds no .svg file")
if svgs != expected:
    failures.append(f"the DOM has {svgs} inline <svg> charts, charts/ has {expected}")


def png_rows(path):
    """Decodes an 8-bit RGB/RGBA/grey PNG into rows of pixel tuples (no extra packages)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {color})")
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    rows = []
    i = 0
    for _ in range(height):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


try:
    width, height, channels, rows = png_rows(png_path)
    colours = set()
    for y in range(0, height, 7):
        row = rows[y]
        for x in range(0, width, 5):
            colours.add(row[x * channels:(x + 1) * channels])
    if len(colours) < 8:
        failures.append(f"the screenshot is blank ({len(colours)} distinct colours sampled)")
    else:
        print(f"screenshot {width}x{height}, {len(colours)} distinct colours sampled")
except FileNotFoundError:
    failures.append("no screenshot was written")
except Exception as e:  # a broken PNG is a failure, not a crash
    failures.append(f"the screenshot cannot be read: {e}")

if failures:
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    sys.exit(1)
print(f"OK: verdict table and {svgs} inline charts in the DOM, no sideways scroll at {widths} px")
PY

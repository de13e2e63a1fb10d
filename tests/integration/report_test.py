"""`medtrain report RUN_DIR`: a tiny training run becomes one self-contained
HTML page. Its config, final metrics and pictures are checked against the run's
own files (metrics.jsonl, config.yaml, and the event files through
TensorBoard's EventAccumulator); headless Chromium renders it and every
picture loads (a page with one broken picture loads one fewer, so the check
can fail); bad folders are refused in one line with exit 2."""
import base64
import html.parser
import io
import json
import math
import re
import shutil
import subprocess

import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import assert_user_error, run, smoke_args

PNG_URI = "data:image/png;base64,"


class PageParser(html.parser.HTMLParser):
    """The page's <img> attributes, <pre> text, table rows and every URL-bearing attribute."""

    def __init__(self):
        super().__init__()
        self.imgs, self.rows, self.urls, self.tags = [], {}, [], set()
        self.pre, self._in_pre, self._cells = "", False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        self.urls += [attrs[a] for a in ("src", "href") if a in attrs]
        if tag == "img":
            self.imgs.append(attrs)
        elif tag == "pre":
            self._in_pre = True
        elif tag == "tr":
            self._cells = []

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False
        elif tag == "tr" and self._cells is not None:
            self.rows.setdefault(self._cells[0], []).append(self._cells[1])
            self._cells = None

    def handle_data(self, data):
        if self._in_pre:
            self.pre += data
        if self._cells is not None and data.strip():
            self._cells.append(data)


def parse(page_text):
    p = PageParser()
    p.feed(page_text)
    p.close()
    return p


def png_of(img):
    assert img["src"].startswith(PNG_URI), img["src"][:40]
    return base64.b64decode(img["src"][len(PNG_URI):], validate=True)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, demo_data):
    """3 steps of the smoke recipe with an evaluation at step 3."""
    runs = tmp_path_factory.mktemp("report_runs")
    r = run("train", *smoke_args(demo_data, runs, "smoke", "--set", "run.max_steps=3"))
    assert r.returncode == 0, r.stderr
    return runs / "smoke"


def write_report(run_dir, out):
    r = run("report", run_dir, "--out", out)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout
    return out.read_text()


def test_the_page_holds_the_runs_config_metrics_curves_and_images(trained_run, tmp_path):
    page_text = write_report(trained_run, tmp_path / "report.html")
    page = parse(page_text)

    # Self-contained: every URL is a PNG data: URI; nothing to run or fetch.
    assert page.urls and all(u.startswith(PNG_URI) for u in page.urls)
    assert not {"script", "link", "iframe", "object"} & page.tags

    # The config, character for character (the parser undoes the escaping).
    assert page.pre == (trained_run / "config.yaml").read_text()

    # Final metrics: the last train and eval records of metrics.jsonl.
    records = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    last_eval = [x for x in records if x["kind"] == "eval"][-1]
    last_train = [x for x in records if x["kind"] == "train"][-1]
    assert last_eval["step"] == 3 and last_train["step"] == 3
    for key, value in last_eval.items():
        if key.startswith("val/"):
            assert page.rows[key][-1] == ("nan" if value is None else f"{value:.6g}"), key
    assert page.rows["loss"][-1] == f"{last_train['loss']:.6g}"

    by_alt = {img["alt"]: img for img in page.imgs}
    assert len(by_alt) == len(page.imgs)
    # Curves: loss, learning rate and every validation metric with a finite value.
    val_keys = [k for k in last_eval if k.startswith("val/") and last_eval[k] is not None]
    for tag in ["train/loss", "train/lr", *val_keys]:
        caption = f"{tag} (3 points)" if tag.startswith("train/") else f"{tag} (1 point)"
        assert caption in by_alt, (caption, sorted(by_alt))

    # The latest image of each series (a tag up to its first space: pictures
    # carry step and labels in the tag), byte for byte as TensorBoard reads it.
    acc = EventAccumulator(str(trained_run / "tensorboard"), size_guidance={"images": 0, "tensors": 0})
    acc.Reload()
    latest = {}
    for tag in acc.Tags()["images"]:
        for event in acc.Images(tag):
            series = tag.split(" ")[0]
            if series not in latest or event.step >= latest[series][1].step:
                latest[series] = (tag, event)
    assert {"train/batch", "val/predictions"} <= latest.keys()
    shown = [a for a in by_alt if re.fullmatch(r".* \(step \d+\)", a)]
    assert len(shown) == len(latest), (shown, latest.keys())
    for tag, event in latest.values():
        img = by_alt[f"{tag} (step {event.step})"]
        assert png_of(img) == event.encoded_image_string
    # PR curves as one chart when the run logged any.
    pr_tags = [t for t in acc.Tags()["tensors"] if t.startswith("val/pr_curve/")]
    assert any(a.startswith("precision-recall at step") for a in by_alt) == bool(pr_tags)

    # Every picture decodes (PIL) to a size the page shows whole.
    for img in page.imgs:
        picture = Image.open(io.BytesIO(png_of(img)))
        picture.load()
        w, h = int(img["width"]), int(img["height"])
        assert w % picture.width == 0 and w // picture.width == h // picture.height, img["alt"]


def loaded_images(page, tmp_path, name):
    """(loaded, total) <img> elements of `page` as headless Chromium renders it:
    a wrapper page loads it in an iframe and writes the count into its own DOM."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    wrapper = tmp_path / f"{name}-wrapper.html"
    wrapper.write_text(f"""<!DOCTYPE html><html><body><div id="result">pending</div>
<iframe id="page" src="{page.name}"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var imgs = this.contentDocument.images, ok = 0;
  for (var i = 0; i < imgs.length; ++i) if (imgs[i].complete && imgs[i].naturalWidth > 0) ++ok;
  document.getElementById("result").textContent = "loaded " + ok + " of " + imgs.length;
}});
</script></body></html>""")
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000",
                        "--dump-dom", wrapper.as_uri()], capture_output=True, text=True, timeout=60)
    m = re.search(r'<div id="result">loaded (\d+) of (\d+)</div>', r.stdout)
    assert m, (r.stdout[-2000:], r.stderr[-2000:])
    return int(m.group(1)), int(m.group(2))


def test_headless_chromium_loads_every_picture(trained_run, tmp_path):
    report = tmp_path / "report.html"
    page_text = write_report(trained_run, report)
    n_imgs = len(parse(page_text).imgs)
    assert n_imgs >= 3
    assert loaded_images(report, tmp_path, "report") == (n_imgs, n_imgs)

    # The same page with one picture's bytes replaced by something not a PNG.
    first = page_text.index(PNG_URI) + len(PNG_URI)
    end = page_text.index('"', first)
    broken = tmp_path / "broken.html"
    broken.write_text(page_text[:first] + base64.b64encode(b"not a png").decode() + page_text[end:])
    assert loaded_images(broken, tmp_path, "broken") == (n_imgs - 1, n_imgs)


def test_default_out_is_report_html_in_the_run_folder(trained_run, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(trained_run, run_dir, ignore=shutil.ignore_patterns("ckpt"))
    r = run("report", run_dir)
    assert r.returncode == 0, r.stderr
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not [p.name for p in run_dir.iterdir() if ".tmp" in p.name]  # written beside, then renamed


def test_bad_folders_are_refused_in_one_line(trained_run, tmp_path):
    assert_user_error(run("report", tmp_path / "nope"), "nope", "does not exist")
    (tmp_path / "file.txt").write_text("x")
    assert_user_error(run("report", tmp_path / "file.txt"), "file.txt", "is not a folder")
    (tmp_path / "empty").mkdir()
    assert_user_error(run("report", tmp_path / "empty"), "empty", "is not a run folder")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(trained_run / "config.yaml", fresh)
    (fresh / "metrics.jsonl").write_text("")
    assert_user_error(run("report", fresh), "fresh", "has no events")

    damaged = tmp_path / "damaged"
    shutil.copytree(trained_run, damaged, ignore=shutil.ignore_patterns("ckpt"))
    (damaged / "tensorboard/events.out.tfevents.0.host.medtrain").write_bytes(b"\x20" + b"\x00" * 11 + b"cut short")
    assert_user_error(run("report", damaged), "events.out.tfevents.0.host.medtrain")
    assert_user_error(run("report", trained_run, "--out", tmp_path / "no/such/r.html"), "no/such", "does not exist")
    for folder in (tmp_path / "empty", fresh, damaged):
        assert not (folder / "report.html").exists()
    assert not (tmp_path / "no").exists()

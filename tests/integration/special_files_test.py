"""FIFOs, symbolic links and folders where `medtrain report` and `inspect --png`
(and `--npy`) read or write. Each bad case must end at once (a FIFO opened to read or write
with no peer blocks: every call has timeout=60, so a hang fails the test
instead of blocking CI) with exit 2 and one line naming the path, write
nothing outside what was named and leave no temporary file behind.

Policy (docs/training.md "Run report", docs/dicom.md "inspect"):
  - report --out / inspect --png / --npy: a regular file is replaced (temp + rename;
    --npy rewritten in place);
    a FIFO, device, symbolic link (dangling or not) or folder is refused.
  - report inputs (config.yaml, metrics.jsonl, tensorboard/events.out.tfevents.*):
    symbolic links to regular files are followed; a FIFO, folder or dangling
    link by one of those names is refused, naming it.
"""
import os
import time

import numpy as np
import pytest

from conftest import assert_user_error, run
from inspect_test import write_image

TIMEOUT = 60
CONFIG = "run:\n  name: linked-run-name\n"
RECORD = '{"kind": "train", "step": 1, "epoch": 0, "time": 1.0, "loss": 0.4375, "lr": 0.1}\n'


def listing(folder):
    """Every path under `folder` (links not followed), with its kind and, for files, content."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            if os.path.islink(p):
                out[p] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[p] = ("file", f.read())
            else:
                out[p] = ("dir" if os.path.isdir(p) else "special", None)
    return out


def write_events(folder, tag="val/dice", value=0.625, step=4):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(folder))
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    w.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    w.close()
    (path,) = [p for p in folder.iterdir() if p.name.startswith("events.out.tfevents.")]
    return path


def make_run(root):
    run_dir = root / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(CONFIG)
    (run_dir / "metrics.jsonl").write_text(RECORD)
    return run_dir


def report(run_dir, *args):
    return run("report", run_dir, *args, timeout=TIMEOUT)


# --- what report --out and inspect --png write to -----------------------------------------------

def out_cases(tmp_path):
    """name -> (make the thing at OUT, needles of the refusal)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not to be replaced")
    return {
        "fifo": (lambda out: os.mkfifo(out), ["is a FIFO"]),
        "link to a file": (lambda out: out.symlink_to(elsewhere / "keep.txt"), ["is a symbolic link", "keep.txt"]),
        "dangling link": (lambda out: out.symlink_to(elsewhere / "absent.html"), ["is a symbolic link", "absent"]),
        "link to a folder": (lambda out: out.symlink_to(elsewhere), ["is a folder"]),
        "link to /dev/null": (lambda out: out.symlink_to("/dev/null"), ["is a symbolic link", "/dev/null"]),
    }


CASES = ["fifo", "link to a file", "dangling link", "link to a folder", "link to /dev/null"]


def check_refused(result, workdir, before, out, needles, flag):
    assert_user_error(result, flag, out.name, *needles)
    assert listing(workdir) == before, "something was written, replaced or left behind"


@pytest.mark.parametrize("case", CASES)
def test_report_out_that_is_not_a_regular_file_is_refused(tmp_path, case):
    run_dir = make_run(tmp_path)
    make, needles = out_cases(tmp_path)[case]
    out = tmp_path / "page.html"
    make(out)
    before = listing(tmp_path)
    check_refused(report(run_dir, "--out", out), tmp_path, before, out, needles, "report --out")


@pytest.mark.parametrize("flag", ["--png", "--npy"])
@pytest.mark.parametrize("case", CASES)
def test_inspect_out_that_is_not_a_regular_file_is_refused(tmp_path, case, flag):
    dcm = write_image(tmp_path / "ct.dcm", np.arange(20).reshape(4, 5))
    make, needles = out_cases(tmp_path)[case]
    out = tmp_path / "frame.out"
    make(out)
    before = listing(tmp_path)
    result = run("inspect", dcm, flag, out, timeout=TIMEOUT)
    check_refused(result, tmp_path, before, out, needles, flag)


def test_a_regular_file_out_is_replaced_and_no_temporary_file_is_left(tmp_path):
    """The control: the refusals above are about the kind of file, not about its existing."""
    run_dir = make_run(tmp_path)
    page = tmp_path / "page.html"
    page.write_text("old")
    r = report(run_dir, "--out", page)
    assert r.returncode == 0, r.stderr
    assert "0.4375" in page.read_text() and "linked-run-name" in page.read_text()
    dcm = write_image(tmp_path / "ct.dcm", np.arange(20).reshape(4, 5))
    png = tmp_path / "frame.png"
    png.write_text("old")
    r = run("inspect", dcm, "--png", png, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_out_that_is_an_input_is_refused(tmp_path):
    """Replacing the run's own log (or the DICOM being inspected) would lose it."""
    run_dir = make_run(tmp_path)
    before = listing(tmp_path)
    assert_user_error(report(run_dir, "--out", run_dir / "metrics.jsonl"), "report --out", "metrics.jsonl",
                      "is the run's own metrics.jsonl")
    os.link(run_dir / "config.yaml", tmp_path / "hard.html")  # a hard link is the same file
    before = listing(tmp_path)
    assert_user_error(report(run_dir, "--out", tmp_path / "hard.html"), "hard.html", "is the run's own config.yaml")
    assert listing(tmp_path) == before
    dcm = write_image(tmp_path / "ct.dcm", np.arange(20).reshape(4, 5))
    before = listing(tmp_path)
    assert_user_error(run("inspect", dcm, "--png", dcm, timeout=TIMEOUT), "--png", "ct.dcm",
                      "is the DICOM file being inspected")
    assert listing(tmp_path) == before
    assert_user_error(run("inspect", dcm, "--npy", dcm, timeout=TIMEOUT), "--npy", "ct.dcm",
                      "is the DICOM file being inspected")
    assert listing(tmp_path) == before


# --- what report reads --------------------------------------------------------------------------

INPUTS = {  # name in the run folder -> the word the message uses for it
    "config.yaml": "config",
    "metrics.jsonl": "metrics log",
    "tensorboard/events.out.tfevents.1.host": "event file",
}


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("kind", ["fifo", "folder", "dangling link"])
def test_report_input_that_is_not_a_regular_file_is_refused_by_name(tmp_path, name, kind):
    run_dir = make_run(tmp_path)
    path = run_dir / name
    path.parent.mkdir(exist_ok=True)
    if path.exists():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)  # opened plainly, a FIFO with no writer blocks the read forever
        needles = ["a FIFO"]
    elif kind == "folder":
        path.mkdir()
        needles = ["a folder"]
    else:
        path.symlink_to(tmp_path / "gone")
        needles = ["does not exist"]
    before = listing(tmp_path)
    assert_user_error(report(run_dir, "--out", tmp_path / "page.html"), INPUTS[name], name, *needles)
    assert listing(tmp_path) == before


def test_report_follows_links_to_regular_files(tmp_path):
    """config.yaml, metrics.jsonl and an event file each a link to a file elsewhere: read through.
    Without metrics.jsonl the scalars come from the event file, so its value shows it was read."""
    store = tmp_path / "store"
    (store / "tb").mkdir(parents=True)
    (store / "config.yaml").write_text(CONFIG)
    (store / "metrics.jsonl").write_text(RECORD)
    events = write_events(store / "tb")
    run_dir = tmp_path / "run"
    (run_dir / "tensorboard").mkdir(parents=True)
    (run_dir / "config.yaml").symlink_to(store / "config.yaml")
    (run_dir / "tensorboard" / events.name).symlink_to(events)
    page = tmp_path / "events.html"
    r = report(run_dir, "--out", page)
    assert r.returncode == 0, r.stderr
    text = page.read_text()
    assert "linked-run-name" in text and "val/dice" in text and "0.625" in text
    (run_dir / "metrics.jsonl").symlink_to(store / "metrics.jsonl")
    r = report(run_dir, "--out", tmp_path / "jsonl.html")
    assert r.returncode == 0, r.stderr
    assert "0.4375" in (tmp_path / "jsonl.html").read_text()

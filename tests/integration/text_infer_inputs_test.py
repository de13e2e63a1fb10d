"""`medtrain infer` with a text bundle on bad --in and --out (issue 14). Inputs
are read as image inputs are (data/io/user_file.h): a FIFO or a device is
refused before any read (never a hang), a symbolic link is followed, so one
to a FIFO, to a device or to nothing is refused too; each refusal is one line,
exit 2. A failed inference leaves an existing --out byte for byte as it was
(predictions are written once, atomically, at the end)."""
import json
import os

import pytest

from conftest import assert_user_error, needs_minilm, run
from text_util import text_args, tiny_manifest

pytestmark = needs_minilm

KEEP = b'{"id": "earlier run", "labels": []}\n'


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A multilabel text bundle after one training step (safetensors only: quick)."""
    root = tmp_path_factory.mktemp("text_bundle")
    manifest = tiny_manifest(root)
    r = run("train", *text_args("report_labels.yaml", manifest, root, "t", "--set", "run.max_steps=1"))
    assert r.returncode == 0, r.stderr
    e = run("export", "--checkpoint", root / "t/ckpt/latest", "--out", root / "bundle", "--format", "safetensors")
    assert e.returncode == 0, e.stderr
    return root / "bundle"


@pytest.fixture
def kept_out(tmp_path):
    """An --out that an earlier run wrote."""
    out = tmp_path / "pred.jsonl"
    out.write_bytes(KEEP)
    return out


def infer(bundle, source, out):
    return run("infer", "--model", bundle, "--in", source, "--out", out, timeout=60)  # a hang fails the test


def fifo(path):
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("name", ["reports.jsonl", "report.txt"])
def test_a_fifo_is_refused_at_once(bundle, tmp_path, kept_out, name):
    r = infer(bundle, fifo(tmp_path / name), kept_out)
    assert_user_error(r, name, "a FIFO")
    assert kept_out.read_bytes() == KEEP


@pytest.mark.parametrize("target", ["fifo", "device", "nothing"])
def test_a_link_to_a_fifo_a_device_or_nothing_is_refused(bundle, tmp_path, kept_out, target):
    link = tmp_path / "reports.jsonl"
    link.symlink_to({"fifo": fifo(tmp_path / "pipe"), "device": "/dev/zero", "nothing": tmp_path / "gone"}[target])
    r = infer(bundle, link, kept_out)
    assert_user_error(r, "reports.jsonl", {"fifo": "a FIFO", "device": "a character device",
                                           "nothing": "no such file or folder"}[target])
    assert kept_out.read_bytes() == KEEP


def test_a_link_to_reports_is_read_like_the_reports(bundle, tmp_path):
    """As for DICOM inputs: a link is followed (ckpt/latest is one too)."""
    manifest = tiny_manifest(tmp_path)
    (tmp_path / "link.jsonl").symlink_to(manifest)
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt/a.txt").write_text("No pneumothorax.")
    (tmp_path / "links").symlink_to(tmp_path / "txt", target_is_directory=True)
    for source, original in ((tmp_path / "link.jsonl", manifest), (tmp_path / "links", tmp_path / "txt")):
        outs = []
        for i, path in enumerate((source, original)):
            out = tmp_path / f"p{i}.jsonl"
            assert infer(bundle, path, out).returncode == 0
            outs.append([json.loads(line) for line in out.read_text().splitlines()])
        assert outs[0] == outs[1] and outs[0], outs


def test_a_fifo_in_a_folder_of_reports_is_passed_over(bundle, tmp_path, kept_out):
    """As in a folder of DICOM files: only regular files are read."""
    folder = tmp_path / "txt"
    folder.mkdir()
    fifo(folder / "b.txt")
    r = infer(bundle, folder, kept_out)
    assert_user_error(r, "no texts found")
    assert kept_out.read_bytes() == KEEP
    (folder / "a.txt").write_text("Small effusion.")
    r = infer(bundle, folder, kept_out)
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["id"] for line in kept_out.read_text().splitlines()] == ["a.txt"]


@pytest.mark.parametrize("bad", ["invalid_json", "invalid_utf8", "missing"])
def test_a_failed_inference_leaves_out_unchanged(bundle, tmp_path, kept_out, bad):
    """The reports fail after the bundle loaded: nothing is written."""
    manifest = tiny_manifest(tmp_path)
    if bad == "missing":
        manifest.unlink()
    else:
        lines = manifest.read_bytes().splitlines(keepends=True)
        lines[5] = {"invalid_json": b'{"id": "R5", "text": \n', "invalid_utf8": b'{"id": "R5", "text": "caf\xe9"}\n'}[bad]
        manifest.write_bytes(b"".join(lines))
    r = infer(bundle, manifest, kept_out)
    assert_user_error(r, "r.jsonl", ":6" if bad != "missing" else "no such file or folder")
    assert kept_out.read_bytes() == KEEP


@pytest.mark.parametrize("flags,needle", [(["--precision", "bf16"], "--precision bf16"),
                                          (["--cuda-graphs", "on"], "--cuda-graphs on")])
def test_gpu_flags_are_refused_for_a_text_bundle(bundle, tmp_path, kept_out, flags, needle):
    """Text bundles run in fp32 without CUDA graphs: asking otherwise is refused, not ignored."""
    reports = tmp_path / "report.txt"
    reports.write_text("No acute findings.\n")
    r = run("infer", "--model", bundle, "--in", reports, "--out", kept_out, *flags, timeout=60)
    assert_user_error(r, needle, "text bundle", str(bundle))
    assert kept_out.read_bytes() == KEEP

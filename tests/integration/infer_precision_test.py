"""`medtrain infer --precision` and `--cuda-graphs` through the CLI, on a tiny
exported resnet18 (two optimizer steps of the smoke recipe at 64x64) and
four demo DICOM files. On the CPU: bf16/fp16 and `--cuda-graphs on` are
refused (exit 2, one line, nothing written); fp32, the default, writes the
very bytes a run without the flags writes. The GPU side (graph replay,
autocast tolerances) is tests/trainer/export/gpu_inference_test.cpp, which
skips without a device."""
import shutil

import pytest
import torch

from conftest import assert_user_error, run, tiny_resnet18_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, demo_data):
    return tiny_resnet18_bundle(tmp_path_factory.mktemp("precision"), demo_data)


@pytest.fixture(scope="module")
def sources(tmp_path_factory, demo_data):
    """Four slices of one demo patient: a batch of 3 and a last batch of 1 at --batch-size 3."""
    folder = tmp_path_factory.mktemp("precision_sources")
    patient = sorted((demo_data / "images").iterdir())[0]
    for f in sorted(patient.glob("*.dcm"))[:4]:
        shutil.copy(f, folder / f.name)
    return folder


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_low_precision_on_the_cpu_is_refused(bundle, sources, tmp_path, precision):
    r = run("infer", "--model", bundle, "--in", sources, "--out", tmp_path / "p.csv", "--device", "cpu",
            "--precision", precision, cwd=tmp_path)
    assert_user_error(r, f"--precision {precision} needs a CUDA device", "device cpu")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="--device auto picks the GPU here")
def test_low_precision_with_auto_resolving_to_the_cpu_is_refused(bundle, sources, tmp_path):
    r = run("infer", "--model", bundle, "--in", sources, "--out", tmp_path / "p.csv", "--precision", "fp16",
            cwd=tmp_path)
    assert_user_error(r, "--precision fp16 needs a CUDA device", "device cpu")
    assert list(tmp_path.iterdir()) == []


def test_cuda_graphs_on_with_the_cpu_is_refused(bundle, sources, tmp_path):
    r = run("infer", "--model", bundle, "--in", sources, "--out", tmp_path / "p.csv", "--device", "cpu",
            "--cuda-graphs", "on", cwd=tmp_path)
    assert_user_error(r, "--cuda-graphs on needs a CUDA device", "device cpu")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flags", [["--precision", "fp32"], ["--precision", "fp32", "--cuda-graphs", "off"]])
def test_fp32_writes_what_a_run_without_the_flags_writes(bundle, sources, tmp_path, flags):
    outs = []
    for name, extra in (("plain.jsonl", []), ("flags.jsonl", flags)):
        r = run("infer", "--model", bundle, "--in", sources, "--out", tmp_path / name, "--device", "cpu",
                "--batch-size", 3, *extra)
        assert r.returncode == 0, r.stderr
        assert "predicted 4 of 4 files on device cpu" in r.stdout and ", fp32 ->" in r.stdout, r.stdout
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") == 4

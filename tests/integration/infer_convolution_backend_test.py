"""The CPU convolution back ends of `medtrain infer` (docs/export.md): medtrain's
own oneDNN primitives with Winograd for large 3x3s (the default where the build
has libdnnl), the same without Winograd (MEDTRAIN_ONEDNN_WINOGRAD=0), and
ATen's prepacked oneDNN calls (MEDTRAIN_OWN_ONEDNN=0). Each switch must take
effect (the model line names the back end) and all three must predict the
same probabilities, on a tiny resnet18 whose 128- to 512-channel 3x3s take
the Winograd path. Only "0" turns a switch off; any other value leaves it on."""
import csv

import pytest

from conftest import run, tiny_resnet18_bundle

OWN = "medtrain's oneDNN convolution primitives"
ATEN = "prepacked oneDNN convolutions"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, demo_data):
    return tiny_resnet18_bundle(tmp_path_factory.mktemp("conv_backend"), demo_data)


def probabilities(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {r["path"]: [float(r[k]) for k in r if k.startswith("prob_")] for r in rows}


def infer(bundle, sources, out, env):
    r = run("infer", "--model", bundle, "--in", sources, "--out", out, "--device", "cpu", "--batch-size", 4, env=env)
    assert r.returncode == 0, r.stderr
    model_line = next(line for line in r.stderr.splitlines() if line.startswith("model: "))
    return model_line, probabilities(out)


def test_each_backend_runs_and_all_predict_the_same(bundle, demo_data, tmp_path):
    sources = sorted((demo_data / "images").iterdir())[0]
    line, want = infer(bundle, sources, tmp_path / "own.csv", {})
    if OWN not in line:
        pytest.skip(f"built without libdnnl: {line}")
    assert len(want) >= 4
    assert "Winograd for large 3x3s" in line, line
    for name, env, backend in (("direct", {"MEDTRAIN_ONEDNN_WINOGRAD": "0"}, "Winograd off"),
                               ("aten", {"MEDTRAIN_OWN_ONEDNN": "0"}, ATEN),
                               ("not_zero", {"MEDTRAIN_OWN_ONEDNN": "no"}, "Winograd for large 3x3s")):
        line, got = infer(bundle, sources, tmp_path / f"{name}.csv", env)
        assert backend in line, (name, line)
        assert got.keys() == want.keys(), name
        for path, probs in got.items():
            assert probs == pytest.approx(want[path], abs=1e-5), (name, path)

"""`medtrain export` and `medtrain infer` against independent references:
hashlib and PyYAML for the bundle, the safetensors package for the weights,
onnx's checker and ONNX Runtime for the graph, torchvision for the network,
pydicom + torch for the preprocessing."""
import hashlib
import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import yaml
from onnx import numpy_helper
from safetensors.numpy import load_file

from conftest import assert_user_error, read_csv, run, smoke_args

LABELS = ["no_lesion", "lesion"]


def train_and_export(root, demo, model="resnet18", *extra):
    """Two optimizer steps of the smoke recipe (eval + checkpoint at step 2), then export."""
    runs = root / "runs"
    r = run("train", *smoke_args(demo, runs, model, "--set", f"model.name={model}", "--set", "run.max_steps=2",
                                 "--set", "run.eval_every_steps=2", "--set", "checkpoint.every_steps=2", *extra))
    assert r.returncode == 0, r.stderr
    ckpt = runs / model / "ckpt" / "step-00000002"
    bundle = root / f"bundle-{model}"
    r = run("export", "--checkpoint", ckpt, "--format", "safetensors,onnx", "--out", bundle)
    assert r.returncode == 0, r.stderr
    return runs / model, ckpt, bundle


def infer(bundle, inputs, out, *extra):
    dump = out.with_suffix(".npy")
    r = run("infer", "--model", bundle, "--in", inputs, "--out", out, "--dump-inputs", dump, *extra)
    assert r.returncode == 0, r.stderr
    return r, np.load(dump)


def ort_run(bundle, x):
    session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    return session.run(["logits", "probabilities"], {"input": x})


def assert_close_rel(actual, expected, rel):
    scale = np.maximum(np.abs(expected), 1.0)
    assert np.all(np.abs(actual - expected) <= rel * scale), np.max(np.abs(actual - expected) / scale)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, demo_data):
    root = tmp_path_factory.mktemp("export")
    return (root, *train_and_export(root, demo_data))


@pytest.fixture(scope="module")
def predicted(exported, demo_data):
    """infer over the demo images folder (CSV and JSONL) with the inputs it fed the model."""
    root, _, _, bundle = exported
    _, inputs = infer(bundle, demo_data / "images", root / "pred.csv", "--batch-size", 5, "--workers", 2)
    infer(bundle, demo_data / "images", root / "pred.jsonl")
    rows = read_csv(root / "pred.csv")
    records = [json.loads(l) for l in (root / "pred.jsonl").read_text().splitlines()]
    return rows, records, inputs


def test_model_yaml_describes_the_checkpoint(exported):
    _, run_dir, ckpt, bundle = exported
    card = yaml.safe_load((bundle / "model.yaml").read_text())
    trained = yaml.safe_load((ckpt / "config.yaml").read_text())
    assert card["architecture"] == "resnet18" and card["num_classes"] == 2 and card["in_channels"] == 1
    assert card["labels"] == LABELS
    assert card["input"]["shape"] == [-1, 1, 32, 32]
    pre = card["preprocessing"]
    for key in ("window_center", "window_width", "window_from_file", "image_size", "mean", "std"):
        assert pre[key] == trained["data"][key], key
    assert card["training"]["step"] == 2
    assert card["training"]["config_sha256"] == hashlib.sha256((ckpt / "config.yaml").read_bytes()).hexdigest()
    last_eval = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()
                 if json.loads(l)["kind"] == "eval"][-1]
    assert card["metrics"]["val/accuracy"] == last_eval["val/accuracy"]
    assert card["onnx"]["opset"] <= 17
    for name in ("model.safetensors", "model.onnx"):
        assert card["files"][name] == hashlib.sha256((bundle / name).read_bytes()).hexdigest(), name
    assert sorted(p.name for p in bundle.iterdir()) == ["model.onnx", "model.safetensors", "model.yaml"]
    assert not list(bundle.parent.glob(".tmp-*")), "staging folder left behind"


def test_weights_equal_the_checkpoint_and_the_onnx_initializers(exported):
    _, _, ckpt, bundle = exported
    ours, theirs = load_file(str(bundle / "model.safetensors")), load_file(str(ckpt / "model.safetensors"))
    assert ours.keys() == theirs.keys()
    for k in theirs:
        np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)
    model = onnx.load(str(bundle / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert "conv1.weight" in inits and "fc.weight" in inits
    for name, value in inits.items():
        np.testing.assert_array_equal(value, theirs[name].astype(np.float32), err_msg=name)
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.HasField("dim_value"), "batch dimension must be dynamic"


@pytest.mark.parametrize("batch", [1, 3])
def test_onnxruntime_reproduces_medtrain_infer(predicted, exported, batch):
    rows, records, inputs = predicted
    bundle = exported[3]
    assert inputs.shape[1:] == (1, 32, 32) and len(inputs) == len(rows) == len(records)
    for start in range(0, 6, batch):
        x = inputs[start:start + batch]
        logits, probs = ort_run(bundle, x)
        assert logits.shape == (batch, 2)
        ours_logits = np.array([r["logits"] for r in records[start:start + batch]], dtype=np.float32)
        assert_close_rel(logits, ours_logits, 1e-4)
        csv_probs = np.array([[float(r[f"prob_{l}"]) for l in LABELS] for r in rows[start:start + batch]])
        np.testing.assert_allclose(csv_probs, probs, atol=1e-5)


def test_labels_are_the_argmax_and_rows_follow_the_files(predicted, demo_data):
    rows, records, _ = predicted
    files = sorted(str(p) for p in (demo_data / "images").rglob("*") if p.is_file())
    assert [r["path"] for r in rows] == files == [r["path"] for r in records]
    for r, j in zip(rows, records):
        probs = [float(r[f"prob_{l}"]) for l in LABELS]
        assert r["label"] == LABELS[int(np.argmax(probs))] == j["label"]
        assert abs(sum(probs) - 1) < 1e-5


def test_torchvision_resnet18_with_the_same_weights_agrees(predicted, exported):
    import torchvision
    _, records, inputs = predicted
    net = torchvision.models.resnet18(num_classes=2)
    net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    weights = load_file(str(exported[3] / "model.safetensors"))
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    with torch.no_grad():
        reference = net.eval()(torch.from_numpy(inputs)).numpy()
    assert_close_rel(np.array([r["logits"] for r in records], dtype=np.float32), reference, 1e-4)


def test_preprocessing_matches_pydicom_window_normalize_resize(predicted, demo_data, exported):
    import pydicom
    from pydicom.pixels import apply_modality_lut
    rows, _, inputs = predicted
    pre = yaml.safe_load((exported[3] / "model.yaml").read_text())["preprocessing"]
    for i in (0, 7):
        ds = pydicom.dcmread(rows[i]["path"])
        hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
        lo = pre["window_center"] - pre["window_width"] / 2
        y = np.clip((hu - lo) / pre["window_width"], 0, 1)
        y = torch.from_numpy(((y - pre["mean"]) / pre["std"]).astype(np.float32))[None, None]
        s = pre["image_size"]
        y = torch.nn.functional.interpolate(y, size=(s, s), mode="bilinear", align_corners=False,
                                            antialias=y.shape[-1] > s)
        np.testing.assert_allclose(inputs[i], y[0].numpy(), atol=1e-4)


def test_manifest_input_gives_the_same_predictions(exported, predicted, demo_data, tmp_path):
    rows, _, _ = predicted
    manifest = demo_data / "manifest.csv"
    _, _ = infer(exported[3], manifest, tmp_path / "m.csv")
    by_path = {r["path"]: r for r in rows}
    got = read_csv(tmp_path / "m.csv")
    assert len(got) == sum(1 for _ in open(manifest)) - 1
    for r in got:
        ref = by_path[r["path"]]  # manifest paths resolve against its folder: the same absolute paths
        assert r["label"] == ref["label"]
        # Other batch sizes (32 here, 5 there) may pick other CPU kernels: not bit-identical.
        assert abs(float(r["prob_lesion"]) - float(ref["prob_lesion"])) <= 1e-6


def test_non_dicom_files_fail_or_are_skipped_and_reported(exported, demo_data, tmp_path):
    bundle = exported[3]
    folder = tmp_path / "in"
    shutil.copytree(demo_data / "images" / "P0000", folder)
    (folder / "notes.txt").write_text("not a DICOM file\n")
    r = run("infer", "--model", bundle, "--in", folder, "--out", tmp_path / "p.csv")
    assert_user_error(r, "notes.txt")
    assert not (tmp_path / "p.csv").exists()
    r = run("infer", "--model", bundle, "--in", folder, "--out", tmp_path / "p.csv", "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    n = sum(1 for p in folder.iterdir())
    assert f"skipped 1 of {n} files" in r.stderr and "notes.txt" in r.stderr
    paths = [row["path"] for row in read_csv(tmp_path / "p.csv")]
    assert len(paths) == n - 1 and not any(p.endswith("notes.txt") for p in paths)


def test_export_refuses_a_corrupt_checkpoint_naming_the_file(exported, tmp_path):
    ckpt = tmp_path / "step-00000002"
    shutil.copytree(exported[2], ckpt)
    data = bytearray((ckpt / "model.safetensors").read_bytes())
    data[-10] ^= 0x01
    (ckpt / "model.safetensors").write_bytes(bytes(data))
    r = run("export", "--checkpoint", ckpt, "--out", tmp_path / "b")
    assert_user_error(r, "model.safetensors", "SHA-256")
    assert not (tmp_path / "b").exists() and not list(tmp_path.glob(".tmp-*"))


def test_export_bad_format_and_existing_out(exported, tmp_path):
    ckpt = exported[2]
    assert_user_error(run("export", "--checkpoint", ckpt, "--format", "onnx,tflite", "--out", tmp_path / "b"),
                      "unknown format 'tflite'", "safetensors, onnx")
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert_user_error(run("export", "--checkpoint", ckpt, "--out", out), str(out), "not empty", "--overwrite")
    assert (out / "keep.txt").exists()
    r = run("export", "--checkpoint", ckpt, "--format", "safetensors", "--out", out, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors", "model.yaml"]


def test_infer_refuses_a_tampered_bundle_and_a_bad_out(exported, demo_data, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(exported[3], bundle)
    one = next((demo_data / "images").rglob("*.dcm"))
    assert_user_error(run("infer", "--model", bundle, "--in", one, "--out", tmp_path / "p.txt"), "p.txt", ".csv")
    data = bytearray((bundle / "model.safetensors").read_bytes())
    data[-4] ^= 0x10
    (bundle / "model.safetensors").write_bytes(bytes(data))
    assert_user_error(run("infer", "--model", bundle, "--in", one, "--out", tmp_path / "p.csv"),
                      "model.safetensors", "SHA-256")
    assert_user_error(run("infer", "--model", tmp_path, "--in", one, "--out", tmp_path / "p.csv"), "model.yaml")


@pytest.mark.parametrize("model", ["resnet50", "densenet121", "efficientnet_b0", "convnext_tiny"])
def test_other_architectures_export_with_onnxruntime_parity(model, demo_data, tmp_path):
    listed = run("models").stdout.split()
    if model not in listed:
        pytest.skip(f"{model} is not in the model zoo of this build")
    _, _, bundle = train_and_export(tmp_path, demo_data, model, "--set", "optim.batch_size=4")
    one = sorted((demo_data / "images").rglob("*.dcm"))[:3]
    manifest = tmp_path / "three.csv"
    manifest.write_text("path\n" + "".join(f"{p}\n" for p in one))
    _, inputs = infer(bundle, manifest, tmp_path / "p.jsonl")
    records = [json.loads(l) for l in (tmp_path / "p.jsonl").read_text().splitlines()]
    for batch in (1, 3):
        logits, _ = ort_run(bundle, inputs[:batch])
        assert_close_rel(logits, np.array([r["logits"] for r in records[:batch]], dtype=np.float32), 1e-4)


def test_infer_threads_and_the_inference_graph_line(exported, predicted, demo_data, tmp_path):
    """--threads 1 gives the same predictions as the default; stderr says what
    the load-time graph did (resnet18: batch norm folded); a bad count is refused."""
    bundle = exported[3]
    r, _ = infer(bundle, demo_data / "images", tmp_path / "one.csv", "--threads", 1)
    assert "model: resnet18:" in r.stderr and "batch norm" in r.stderr, r.stderr
    rows = read_csv(tmp_path / "one.csv")
    assert [x["label"] for x in rows] == [x["label"] for x in predicted[0]]
    bad = run("infer", "--model", bundle, "--in", demo_data / "images", "--out", tmp_path / "x.csv", "--threads", -1)
    assert bad.returncode != 0 and "--threads" in bad.stderr and not (tmp_path / "x.csv").exists()

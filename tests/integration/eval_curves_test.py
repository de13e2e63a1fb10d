"""Evaluation curves and tables end to end: two training steps of the smoke
recipe (an evaluation at step 2), then `eval --json`, `export` and `infer` on
the validation rows. The JSON's confusion matrix and ROC points must be
sklearn's on infer's probabilities (the same checkpoint), the matrix must sum
to val/samples with its diagonal giving val/accuracy, and TensorBoard's own
EventAccumulator must find the PR curves (pr_curves plugin, [6, 201]) and the
ROC and confusion-matrix images (PNG that PIL decodes). A multilabel run has
a 2x2 matrix and a PR curve per label."""
import io
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import confusion_matrix, roc_curve
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.pr_curve import plugin_data_pb2
from tensorboard.util import tensor_util

from conftest import SOURCE, read_csv, run, smoke_args, val_manifest

LABELS = ["no_lesion", "lesion"]
TWO_STEPS = ["--set", "run.max_steps=2", "--set", "run.eval_every_steps=2", "--set", "checkpoint.every_steps=2",
             "--set", "log.progress=none"]


def events(run_dir):
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"tensors": 0, "images": 0, "scalars": 0})
    acc.Reload()
    return acc


def decode(acc, tag):
    image = acc.Images(tag)[-1]
    picture = Image.open(io.BytesIO(image.encoded_image_string))
    picture.load()
    assert picture.size == (image.width, image.height), tag
    return picture


def pr_tensor(acc, tag):
    meta = acc.SummaryMetadata(tag)
    assert meta.plugin_data.plugin_name == "pr_curves", tag
    content = plugin_data_pb2.PrCurvePluginData.FromString(meta.plugin_data.content)
    assert content.num_thresholds == 201, tag
    return tensor_util.make_ndarray(acc.Tensors(tag)[-1].tensor_proto)


@pytest.fixture(scope="module")
def binary(tmp_path_factory, demo_data):
    root = tmp_path_factory.mktemp("curves")
    runs = root / "runs"
    args = smoke_args(demo_data, runs, "curves", *TWO_STEPS)
    r = run("train", *args)
    assert r.returncode == 0, r.stderr
    r = run("eval", *args, "--json")
    assert r.returncode == 0, r.stderr
    metrics = json.loads(r.stdout)
    bundle = root / "bundle"
    r = run("export", "--checkpoint", runs / "curves/ckpt/step-00000002", "--format", "safetensors", "--out", bundle)
    assert r.returncode == 0, r.stderr
    rows, manifest = val_manifest(demo_data, root)
    r = run("infer", "--model", bundle, "--in", manifest, "--out", root / "pred.csv", "--device", "cpu")
    assert r.returncode == 0, r.stderr
    pred = read_csv(root / "pred.csv")
    assert [p["path"] for p in pred] == [str(demo_data / row["path"]) for row in rows]
    probs = np.array([[float(p[f"prob_{l}"]) for l in LABELS] for p in pred])
    truth = np.array([LABELS.index(row["label"]) if row["label"] in LABELS else int(row["label"]) for row in rows])
    return {"run_dir": runs / "curves", "metrics": metrics, "probs": probs, "truth": truth}


def test_confusion_matrix_is_sklearns_on_the_predictions(binary):
    m = binary["metrics"]
    cm = m["confusion_matrix"]
    assert cm["labels"] == LABELS
    counts = np.array(cm["counts"])
    assert counts.shape == (2, 2)
    assert counts.sum() == m["val/samples"]
    assert np.trace(counts) / counts.sum() == pytest.approx(m["val/accuracy"], abs=1e-12)
    expected = confusion_matrix(binary["truth"], binary["probs"].argmax(1), labels=[0, 1])
    np.testing.assert_array_equal(counts, expected)


def test_roc_points_are_sklearns_and_the_area_is_val_auroc(binary):
    m = binary["metrics"]
    assert set(m["roc"]) == set(LABELS) and set(m["pr"]) == set(LABELS)
    assert m["roc"]["lesion"]["auc"] == pytest.approx(m["val/auroc"], abs=1e-9)
    for k, label in enumerate(LABELS):
        fpr, tpr, thresholds = roc_curve(binary["truth"] == k, binary["probs"][:, k])
        got = m["roc"][label]
        np.testing.assert_allclose(got["fpr"], fpr, atol=1e-12, err_msg=label)
        np.testing.assert_allclose(got["tpr"], tpr, atol=1e-12, err_msg=label)
        assert got["thresholds"][0] is None  # +inf
        np.testing.assert_allclose(got["thresholds"][1:], thresholds[1:], atol=2e-5, err_msg=label)
        pr = m["pr"][label]
        assert len(pr["precision"]) == len(pr["recall"]) == len(pr["thresholds"]) == 201
        assert pr["thresholds"][0] == 0 and pr["thresholds"][-1] == 1


def test_tensorboard_has_pr_curves_and_chart_images(binary):
    acc = events(binary["run_dir"])
    tags = acc.Tags()
    assert {"val/pr_curve/no_lesion", "val/pr_curve/lesion"} <= set(tags["tensors"])
    assert {"val/roc", "val/confusion_matrix"} <= set(tags["images"])
    counts = np.array(binary["metrics"]["confusion_matrix"]["counts"])
    for k, label in enumerate(LABELS):
        tensor = pr_tensor(acc, f"val/pr_curve/{label}")
        assert tensor.shape == (6, 201) and tensor.dtype == np.float32
        assert acc.Tensors(f"val/pr_curve/{label}")[-1].step == 2
        tp, fp, tn, fn = tensor[:4]
        # At threshold 0 every sample is called positive: the class's samples and the others.
        assert tp[0] + fn[0] == counts[k].sum()
        assert fp[0] + tn[0] == counts.sum() - counts[k].sum()
        # The same curve as eval --json's (the same checkpoint, evaluated again).
        np.testing.assert_allclose(tensor[4], binary["metrics"]["pr"][label]["precision"], atol=1e-6)
        np.testing.assert_allclose(tensor[5], binary["metrics"]["pr"][label]["recall"], atol=1e-6)
    roc = decode(acc, "val/roc")
    assert roc.size == (640, 480) and roc.mode == "RGB"
    assert len(np.unique(np.asarray(roc).reshape(-1, 3), axis=0)) > 10  # lines, text, axes: not blank
    cm = decode(acc, "val/confusion_matrix")
    assert cm.mode == "RGB" and 200 <= cm.size[0] <= 2600 and 200 <= cm.size[1] <= 2600


def test_multilabel_has_a_matrix_and_a_curve_per_label(tmp_path):
    data = tmp_path / "demo"
    r = run("demo-data", "--out", data, "--count", 32, "--patients", 8, "--size", 64, "--seed", 9, "--multilabel")
    assert r.returncode == 0, r.stderr
    runs = tmp_path / "runs"
    args = ["-c", SOURCE / "configs/recipes/chexnet_densenet121.yaml", "--set", f"data.root={data}",
            "--set", f"data.manifest={data}/manifest.csv", "--set", f"run.output_dir={runs}",
            "--set", "model.name=resnet18", "--set", "data.image_size=32", "--set", "optim.batch_size=8",
            "--set", "data.workers=1", "--set", "run.device=cpu", *TWO_STEPS]
    r = run("train", *args)
    assert r.returncode == 0, r.stderr
    r = run("eval", *args, "--json")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    labels = sorted(m["roc"])
    assert labels and set(m["confusion_matrix"]) == set(labels) == set(m["pr"])
    for label in labels:
        cm = m["confusion_matrix"][label]
        assert cm["labels"] == ["absent", "present"]
        assert np.array(cm["counts"]).sum() == m["val/samples"]
    run_dir = next(p for p in runs.iterdir() if (p / "tensorboard").is_dir())
    acc = events(run_dir)
    for label in labels:
        assert pr_tensor(acc, f"val/pr_curve/{label}").shape == (6, 201)
        decode(acc, f"val/confusion_matrix/{label}")
    assert decode(acc, "val/roc").size == (640, 480)

"""Seeds for the parser fuzzers of issue 17 (tests/fuzz/*_fuzz.cpp).

  parser_seeds.py OUT_DIR

Writes OUT_DIR/<target>/ for safetensors, trainer_state, config, manifest,
bundle and torch_pickle: small valid inputs (a few hundred bytes each, framed
as each target's header comment says) from which libFuzzer mutates. The
safetensors and pickle files come from independent writers (this script's own
encoder following the format's documentation, and torch.save); the others are
the documented formats written out by hand, plus the repository's configs.
"""
import glob
import io
import json
import os
import struct
import sys
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def put(out, target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)] in data order."""
    header, offset, data = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds(out):
    put(out, "safetensors", "f32", safetensors([("w", "F32", [2, 2], struct.pack("<4f", 1, -2, 3.5, 0))]))
    put(out, "safetensors", "mixed", safetensors(
        [("a", "F16", [3], b"\x00\x3c" * 3), ("b", "I64", [1], struct.pack("<q", -7)),
         ("c", "BOOL", [4], b"\x00\x01\x01\x00"), ("d", "BF16", [0], b""), ("e", "U8", [], b"\x05")],
        {"format": "pt", "note": "seed"}))
    put(out, "safetensors", "ints", safetensors(
        [("i8", "I8", [2], b"\xff\x01"), ("i16", "I16", [1], b"\x01\x80"), ("i32", "I32", [1, 1], b"\x01\0\0\0"),
         ("f64", "F64", [1], struct.pack("<d", 2.5))]))
    return [open(os.path.join(out, "safetensors", n), "rb").read() for n in ("f32", "mixed")]


TRAINER_STATE = {
    "format": "medtrain-trainer-state/1", "step": 12, "epoch": 1, "batch_in_epoch": 4, "samples_seen": 96,
    "world_size": 2, "global_batch": 8, "grad_accum_steps": 1, "loss_scale": 65536.0, "best_metric": 0.75,
    "best_checkpoint": "step-00000010", "last_eval": {"val/accuracy": 0.75, "val/loss": "nan"},
    "torch_version": "2.11.0", "medtrain_version": "0.1.0", "config_sha256": "ab" * 32,
}


def trainer_state_seeds(out):
    put(out, "trainer_state", "full", json.dumps(TRAINER_STATE, indent=2) + "\n")
    special = dict(TRAINER_STATE, best_metric=None, loss_scale="inf", last_eval={"a": "-inf", "b": 1e-300})
    put(out, "trainer_state", "special", json.dumps(special))


def config_seeds(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "**", "*.yaml"), recursive=True)):
        data = open(path, "rb").read()
        if len(data) < 8192:
            put(out, "config", "file_" + os.path.relpath(path, ROOT).replace("/", "_"), b"\0" + data)
    put(out, "config", "overrides", b"\x01optim.lr=0.01\ndata.image_size=32\nmodel.name=resnet18\n"
                                    b"train.epochs=2\ndata.label_names=[a, b]\n")
    put(out, "config", "base", b"\0base: missing.yaml\noptim: {lr: 0.1}\n")


def manifest_seeds(out):
    csv = ("path,label,labels,mask,patient_id,split\n"
           "images/P1/a.dcm,1,effusion|nodule,masks/a.npy,P1,train\n"
           "\"images/P2/b, c.dcm\",0,,masks/b.npy,P2,val\n"
           "images/P3/c.dcm,2,3,masks/c.dcm,P3,train\n")
    for mode in (0, 2, 4, 6):
        put(out, "manifest", f"csv{mode}", bytes([mode]) + csv.encode())
    put(out, "manifest", "csv_bom", b"\x02\xef\xbb\xbfpath,labels\r\nx.dcm,normal\r\n\r\ny.dcm,0|1\r\n")
    rows = [{"id": "R1", "patient": "P1", "split": "train", "text": "No effusion. Small nodule.",
             "labels": ["nodule"], "spans": [{"start": 0, "end": 2, "label": "NAME"}]},
            {"id": "R2", "patient": "P2", "split": "val", "text": "Caf\u00e9 \u00e9t\u00e9 normal",
             "labels": [], "spans": [{"start": 5, "end": 9, "label": "NAME"}]}]
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    for mode in (1, 3, 5, 7):
        put(out, "manifest", f"jsonl{mode}", bytes([mode]) + jsonl.encode())


CARD_2D = """format: medtrain-model/1
architecture: resnet18
task: multiclass
num_classes: 2
in_channels: 1
input: {name: input, shape: [-1, 1, 64, 64], dtype: float32, layout: NCHW}
labels: [normal, abnormal]
preprocessing: {window_center: 40, window_width: 400, window_from_file: false, image_size: 64, depth: 0,
                mean: 0.5, std: 0.25, colour: luma}
training: {step: 6, epoch: 1, config_sha256: %s, checkpoint: runs/x/ckpt/step-00000006,
           torch_version: 2.11.0, medtrain_version: 0.1.0}
metrics: {val/accuracy: 0.75, val/loss: .nan}
onnx: {file: model.onnx, opset: 17, inputs: [input], outputs: [logits, probabilities]}
files: {model.safetensors: "%s", model.onnx: "%s"}
""" % ("ab" * 32, "cd" * 32, "ef" * 32)

CARD_3D = CARD_2D.replace("task: multiclass", "task: segmentation").replace(
    "image_size: 64, depth: 0,", "image_size: 32, depth: 8, slice_spacing: 2.5, pixel_spacing: 0.7, roi: [8, 32, 32],")

CARD_TEXT = """format: medtrain-model/1
architecture: bert
task: token_classification
num_classes: 3
in_channels: 1
input: {name: input_ids, shape: [-1, 128], dtype: int64}
labels: [O, B-NAME, I-NAME]
text: {max_length: 128, encoder: encoder}
training: {step: 1, epoch: 0, config_sha256: %s, checkpoint: c, torch_version: t, medtrain_version: m}
metrics: {}
files: {model.safetensors: "%s"}
""" % ("ab" * 32, "cd" * 32)


def bundle_seeds(out, weights):
    for name, card in (("image", CARD_2D), ("volume", CARD_3D), ("text", CARD_TEXT)):
        raw = card.encode()
        put(out, "bundle", name, struct.pack("<H", len(raw)) + raw + weights[0 if name == "image" else 1])


def torch_pickle_seeds(out):
    import torch  # the venv's: the reference writer of both formats

    state = {"conv.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3),
             "conv.bias": torch.tensor([1, -1], dtype=torch.int64),
             "bn.num_batches_tracked": torch.tensor(3),
             "half": torch.ones(2, 2, dtype=torch.float16).t(),  # a non-contiguous view
             "view": torch.arange(10, dtype=torch.float64)[2:5]}  # an offset into a shared storage
    from collections import OrderedDict
    for name, obj in (("plain", state), ("nested", {"state_dict": OrderedDict(state), "epoch": 3})):
        zipped = io.BytesIO()
        torch.save(obj, zipped)
        put(out, "torch_pickle", f"zip_{name}", b"\x01" + zipped.getvalue())
        legacy = io.BytesIO()
        torch.save(obj, legacy, _use_new_zipfile_serialization=False)
        put(out, "torch_pickle", f"legacy_{name}", b"\x02" + legacy.getvalue())
        with zipfile.ZipFile(io.BytesIO(zipped.getvalue())) as z:
            pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
            put(out, "torch_pickle", f"pickle_{name}", b"\x00" + z.read(pkl))


def main():
    out = sys.argv[1]
    weights = safetensors_seeds(out)
    trainer_state_seeds(out)
    config_seeds(out)
    manifest_seeds(out)
    bundle_seeds(out, weights)
    torch_pickle_seeds(out)


if __name__ == "__main__":
    main()

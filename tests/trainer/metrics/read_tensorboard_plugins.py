"""Reads a TensorBoard log directory with TensorBoard's own EventAccumulator and
prints its images, tensors and plugin metadata as JSON, for the C++ tests of
EventFileWriter::add_image/add_text/add_pr_curve (the scalars are
read_tensorboard.py's):

  {"images":   {tag: [{"step", "width", "height", "png": <PIL decode>}]},
   "tensors":  {tag: [{"step", "dtype", "shape", "values"}]},   # floats, or strings for DT_STRING
   "metadata": {tag: {"plugin", "content_hex", "num_thresholds"?}},
   "ui":       {tag: {"plugin", "data_class", "shapes"}}}

"ui" is what TensorBoard's web UI is served from (plugin_event_accumulator,
which migrates legacy images to tensors and assigns data classes): a value it
cannot place would be missing or of DATA_CLASS_UNKNOWN (0) there.

A PIL decode is {"mode", "width", "height", "pixels": flat row-major list}.
The PNG bytes are decoded by PIL, the tensors by tensorboard's make_ndarray,
the pr_curves content by its own PrCurvePluginData: nothing of medtrain's.

usage: read_tensorboard_plugins.py <logdir>
"""

import io
import json
import sys

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator
from tensorboard.plugins.pr_curve import metadata as pr_metadata
from tensorboard.util import tensor_util


def pil_decode(data):
    img = Image.open(io.BytesIO(data))
    img.load()
    return {"mode": img.mode, "width": img.width, "height": img.height,
            "pixels": np.asarray(img).reshape(-1).tolist()}


def tensor_json(event):
    array = tensor_util.make_ndarray(event.tensor_proto)
    if array.dtype.kind in "SO":
        values = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array.reshape(-1)]
    else:
        values = array.reshape(-1).astype(float).tolist()
    return {"step": event.step, "dtype": int(event.tensor_proto.dtype), "shape": list(array.shape),
            "values": values}


def metadata_json(acc, tag):
    meta = acc.SummaryMetadata(tag)
    out = {"plugin": meta.plugin_data.plugin_name, "content_hex": meta.plugin_data.content.hex()}
    if out["plugin"] == pr_metadata.PLUGIN_NAME:
        parsed = pr_metadata.parse_plugin_metadata(meta.plugin_data.content)
        out["num_thresholds"] = parsed.num_thresholds
        out["version"] = parsed.version
    return out


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    acc = event_accumulator.EventAccumulator(
        argv[0], size_guidance={event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    images = {tag: [{"step": e.step, "width": e.width, "height": e.height,
                     "png": pil_decode(e.encoded_image_string)} for e in acc.Images(tag)]
              for tag in tags["images"]}
    tensors = {tag: [tensor_json(e) for e in acc.Tensors(tag)] for tag in tags["tensors"]}
    metadata = {tag: metadata_json(acc, tag) for tag in tags["tensors"]}
    ui = plugin_event_accumulator.EventAccumulator(argv[0], size_guidance={"tensors": 0})
    ui.Reload()
    ui_tags = {}
    for tag in ui.Tags()["tensors"]:
        meta = ui.SummaryMetadata(tag)
        ui_tags[tag] = {"plugin": meta.plugin_data.plugin_name, "data_class": int(meta.data_class),
                        "shapes": [[d.size for d in e.tensor_proto.tensor_shape.dim] for e in ui.Tensors(tag)]}
    json.dump({"images": images, "tensors": tensors, "metadata": metadata, "ui": ui_tags}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

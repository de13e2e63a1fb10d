"""The other two sides of scripts/bench/text_infer_vs_ort.sh: encoder inference
sentences/s of ONNX Runtime on the bundle's model.onnx and of PyTorch eager
(transformers' BertModel with the bundle's model.safetensors, mean pooling over
the non-padding tokens, the classifier: the model of a text classification
bundle) on the token ids that text_infer_forward_bench timed (its BENCH_INPUT),
one repetition of ITERS forwards each after a warm-up. Checks first that both
give medtrain's logits (its BENCH_LOGITS) within 1e-3 relative, so the three
time the same computation.

    text_infer_reference.py BUNDLE INPUT.npy LOGITS.npy THREADS ITERS
prints: ort=<sentences/s> eager=<sentences/s>
"""
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertModel

from forward_reference import check_and_time, ort_session


class TextClassifier(torch.nn.Module):
    """BertModel -> mean over the tokens that are not padding -> Linear."""

    def __init__(self, bundle):
        super().__init__()
        config = BertConfig.from_json_file(f"{bundle}/encoder/config.json")
        weights = load_file(f"{bundle}/model.safetensors")
        self.pad = config.pad_token_id
        self.bert = BertModel(config, add_pooling_layer=False)
        self.bert.load_state_dict({k[len("bert."):]: v for k, v in weights.items() if k.startswith("bert.")},
                                  strict=True)
        w = weights["classifier.weight"]
        self.classifier = torch.nn.Linear(w.shape[1], w.shape[0])
        self.classifier.load_state_dict({"weight": w, "bias": weights["classifier.bias"]}, strict=True)
        unused = sorted(k for k in weights if not k.startswith(("bert.", "classifier.")))
        if unused:  # a head this twin lacks: it would time another model
            sys.exit(f"text_infer_reference.py: bundle weights the reference does not use: {unused}")
        self.eval()

    def forward(self, ids):
        mask = (ids != self.pad).long()
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return self.classifier((hidden * m).sum(1) / m.sum(1).clamp_min(1e-9))


def main(bundle, input_path, logits_path, threads, iters):
    ids = np.load(input_path).astype(np.int64)  # written as float32: exact for token ids
    expected = np.load(logits_path)
    torch.set_num_threads(threads)
    net = TextClassifier(bundle)
    ids_t = torch.from_numpy(ids)
    session = ort_session(f"{bundle}/model.onnx", threads)
    onnx_length = session.get_inputs()[0].shape[1]
    if onnx_length != ids.shape[1]:
        sys.exit(f"text_infer_reference.py: model.onnx takes {onnx_length} tokens, the batch has {ids.shape[1]}")

    def onnx():
        return session.run(["logits"], {"input_ids": ids})[0]

    def eager():
        with torch.inference_mode():
            return net(ids_t)

    check_and_time("text_infer_reference.py", onnx, eager, expected, len(ids), iters)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))

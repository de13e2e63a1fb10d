"""Weights for random Whisper references, drawn wider than Hugging Face's
init so that greedy decoding moves between tokens instead of repeating one.
The encoder's sinusoidal position table is left as HF made it."""
import torch


def spread_weights(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name == "model.encoder.embed_positions.weight":
                continue
            if p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if "layer_norm.weight" in name else 0.0))
            else:
                p.normal_(0, 0.3 if "embed" in name else 1.5 * p.shape[-1] ** -0.5)
    return m

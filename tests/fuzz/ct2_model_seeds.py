"""Seeds for tests/fuzz/ct2_model_fuzz.cpp: small model.bin files.

  ct2_model_seeds.py OUT_DIR

Tiny random Whisper models written by ctranslate2's own converter and writer
(float32, float16, int8 and int16: every dtype and alias the writer produces,
the scales of quantized weights), a default-init one (dozens of aliases), and a
hand-built file with the dtypes a Whisper conversion never uses (bfloat16,
int32). Each is a few kB, well under the fuzzer's -max_len.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "asr"))
import ct2_reference  # noqa: E402

TINY = dict(vocab_size=6, num_mel_bins=2, d_model=4, encoder_layers=2, decoder_layers=1,
            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=4,
            decoder_ffn_dim=4, max_source_positions=2, max_target_positions=3)


def string(s):
    raw = s.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def hand_built():
    out = struct.pack("<I", 6) + string("WhisperSpec") + struct.pack("<I", 3) + struct.pack("<I", 3)
    for name, shape, dtype, data in (("a/bf16", [2], 5, b"\x80\x3f\x00\xc0"),
                                     ("a/i32", [], 3, struct.pack("<i", -7)),
                                     ("a/f32", [1, 2], 0, struct.pack("<2f", 1.5, -2.0))):
        out += string(name) + struct.pack("<B", len(shape)) + b"".join(struct.pack("<I", d) for d in shape)
        out += struct.pack("<BI", dtype, len(data)) + data
    return out + struct.pack("<I", 1) + string("b/alias") + string("a/f32")


def main(out):
    os.makedirs(out, exist_ok=True)
    model = ct2_reference.tiny_hf_whisper(TINY, seed=0)
    for quantization in ("float32", "float16", "int8_float32", "int16"):
        ct2_reference.write_ct2(model, f"{out}/whisper_{quantization}.bin", quantization)
    default = ct2_reference.tiny_hf_whisper(TINY, seed=1, randomize=False)
    ct2_reference.write_ct2(default, f"{out}/whisper_default_init.bin", "float32")
    with open(f"{out}/hand_built.bin", "wb") as f:
        f.write(hand_built())


if __name__ == "__main__":
    main(sys.argv[1])

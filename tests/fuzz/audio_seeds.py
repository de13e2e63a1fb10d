"""Seed corpus for audio_decoder_fuzz: small WAV files of each encoding the
decoder meets (8/16/24-bit PCM, float, stereo, WAVE_FORMAT_EXTENSIBLE), and
FLAC and Ogg (Vorbis, Opus) encoded with PyAV when its encoders are there.
Every file stays far below the fuzzer's -max_len.
    python audio_seeds.py OUT_DIR
"""
import struct
import sys
import pathlib

import numpy as np


def wav(tag, channels, rate, bits, data, extensible=False):
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack("<HHIIHHHHI16s", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits,
                          (1 << channels) - 1, struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tone(rate, n, channels=1):
    t = np.arange(n) / rate
    x = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3100 * t)
    return np.repeat(x[:, None], channels, axis=1)


def encode_with_av(path, codec, container, rate, x):
    import av  # faster-whisper's dependency
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.options = {"strict": "-2"}  # ffmpeg's own vorbis encoder is 'experimental'
        frame = av.AudioFrame.from_ndarray(x.astype(np.float32)[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x = tone(8000, 400)
    (out / "pcm16.wav").write_bytes(wav(1, 1, 8000, 16, (x * 32767).astype("<i2").tobytes()))
    (out / "pcm8_stereo.wav").write_bytes(wav(1, 2, 8000, 8, (tone(8000, 300, 2) * 127 + 128).astype("u1").tobytes()))
    pcm24 = (x[:, 0] * 8388607).astype("<i4").view("u1").reshape(-1, 4)[:, :3].tobytes()
    (out / "pcm24_ext.wav").write_bytes(wav(1, 1, 22050, 24, pcm24, extensible=True))
    (out / "float.wav").write_bytes(wav(3, 1, 44100, 32, x.astype("<f4").tobytes()))
    (out / "float_stereo.wav").write_bytes(wav(3, 2, 48000, 32, tone(48000, 300, 2).astype("<f4").tobytes()))
    mono = tone(16000, 1600)[:, 0]
    for name, codec, container, rate in (("a.flac", "flac", "flac", 16000), ("v.ogg", "vorbis", "ogg", 16000),
                                         ("o.ogg", "libopus", "ogg", 48000)):
        try:
            encode_with_av(out / name, codec, container, rate, mono if rate == 16000 else tone(48000, 4800)[:, 0])
        except Exception as e:  # a missing encoder costs a seed, not the run
            print(f"audio_seeds: no {name} seed ({e})", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])

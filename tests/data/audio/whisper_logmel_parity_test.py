"""Parity of data/audio's Whisper front end with faster-whisper's FeatureExtractor.

The reference is pip `faster-whisper`'s feature_extractor.py (NumPy: its own
STFT, its own Slaney filterbank); the C++ side runs through
build/tests/tools/logmel_tool/logmel_tool. Audio is real speech rendered by
espeak-ng (Debian) in two voices, and synthetic tones, chirps and silences.

Conventions (docs/audio.md, Note [Padding convention] in data/audio/log_mel.h):
our `frames` are the clip's frames, faster-whisper's FeatureExtractor(x) with
its default padding=160; our `windows` follow openai-whisper (silence samples
after the clip), which FeatureExtractor(x, padding=480000) reproduces: window w
is its frames [3000 w, 3000 w + 3000). Both must agree to 1e-4 absolute.

The reference gets the waveform from Python's `wave` module (an independent
WAV reader) for 16 kHz files, and our 16 kHz waveform for files we resample:
soxr is checked separately against scipy's polyphase resampler.
"""
import json
import os
import pathlib
import shutil
import subprocess
import wave

import numpy as np
import pytest

try:
    from faster_whisper.feature_extractor import FeatureExtractor
except ImportError:  # a missing reference is a failure, not a skip
    FeatureExtractor = None

TOL = 1e-4
SPEECH = [
    "Findings: small left pleural effusion with adjacent atelectasis.",
    "No pneumothorax. The cardiomediastinal silhouette is within normal limits.",
    "Impression: interval improvement of the right lower lobe consolidation.",
]


def reference():
    if FeatureExtractor is None:
        pytest.fail("pip package `faster-whisper` is needed: .venv/bin/pip install -r scripts/requirements.txt")
    return FeatureExtractor(feature_size=80)


def tool():
    build = pathlib.Path(os.environ.get("MEDTRAIN_BUILD_DIR", "build"))
    exe = build / "tests" / "tools" / "logmel_tool" / "logmel_tool"
    assert exe.is_file(), f"{exe} not built: cmake --build build --target logmel_tool"
    return exe


def run_tool(tmp_path, audio, device="cpu"):
    """Returns (info, native, wave16k, frames, windows) for one file."""
    out = {k: tmp_path / f"{pathlib.Path(audio).stem}_{k}.npy" for k in ("native", "wave", "frames", "windows")}
    args = [str(tool()), "--in", str(audio), "--device", device] + \
        [a for k, p in out.items() for a in (f"--{k}", str(p))]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return (json.loads(r.stdout),) + tuple(np.load(out[k]) for k in ("native", "wave", "frames", "windows"))


def espeak(tmp_path, text, name, voice="en-us", speed=160):
    exe = shutil.which("espeak-ng")
    assert exe, "espeak-ng (Debian) is needed: scripts/setup.sh installs it"
    path = tmp_path / f"{name}.wav"
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, capture_output=True)
    return path


def read_wav(path):
    """16-bit PCM WAV -> float32 mono (channel mean), with its rate."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
        return x.reshape(-1, w.getnchannels()).mean(axis=1, dtype=np.float32), w.getframerate()


def write_wav16(path, x, rate):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes())
    return path


def to_16k(x, rate):
    """scipy's polyphase resampler with a Kaiser window of beta 8: its default
    (beta 5) ripples by about 1e-3 in the passband, beta 8 is flat to 1e-4
    below 6 kHz."""
    from scipy.signal import resample_poly
    g = np.gcd(16000, rate)
    return resample_poly(x.astype(np.float64), 16000 // g, rate // g, window=("kaiser", 8.0)).astype(np.float32)


def check_against_reference(x, frames, windows):
    fe = reference()
    ref_frames = fe(x)  # padding=160: the clip's frames
    assert frames.shape == ref_frames.shape
    assert np.abs(frames - ref_frames).max() <= TOL
    ref = fe(x, padding=480000)  # openai-whisper's convention
    n_windows = windows.shape[0]
    assert n_windows == max(1, -(-(len(x) // 160) // 3000))
    ref_windows = ref[:, :3000 * n_windows].reshape(80, n_windows, 3000).transpose(1, 0, 2)
    assert np.abs(windows - ref_windows).max() <= TOL


def synthetic(rate=16000):
    t = np.arange(int(rate * 2.5)) / rate
    tone = 0.4 * np.sin(2 * np.pi * 440 * t)
    chirp = 0.3 * np.sin(2 * np.pi * (100 + 1500 * t) * t)  # 100 Hz -> 7.6 kHz
    return np.concatenate([tone, np.zeros(rate // 2), chirp, 1e-3 * tone[:777]])


def test_filterbank_matches_reference(tmp_path):
    for n_mels in (80, 128):
        out = tmp_path / f"fb{n_mels}.npy"
        subprocess.run([str(tool()), "--filters", str(out), "--n-mels", str(n_mels)], check=True)
        ours = np.load(out)
        reference()
        ref = FeatureExtractor(feature_size=n_mels).mel_filters
        assert ours.shape == ref.shape == (n_mels, 201)
        assert np.abs(ours - ref).max() <= 1e-8, np.abs(ours - ref).max()


@pytest.mark.parametrize("clip", ["speech", "speech_long", "synthetic", "short"])
def test_logmel_matches_reference_on_16k_files(tmp_path, clip):
    if clip.startswith("speech"):
        parts = [read_wav(espeak(tmp_path, s, f"s{i}", voice=("en-us", "en+f3")[i % 2]))[0]
                 for i, s in enumerate(SPEECH)]
        x = to_16k(np.concatenate(parts), 22050)
        if clip == "speech_long":  # past 30 s: two windows, one max over both
            x = np.concatenate([x] * max(2, int(np.ceil(35 * 16000 / len(x)))))[: 16000 * 35 + 123]
    elif clip == "synthetic":
        x = synthetic()
    else:
        x = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(1234) / 16000)
    path = write_wav16(tmp_path / f"{clip}.wav", x, 16000)
    x16, rate = read_wav(path)
    assert rate == 16000
    info, native, wave16k, frames, windows = run_tool(tmp_path, path)
    assert info["source_rate"] == 16000 and info["warnings"] == []
    np.testing.assert_array_equal(native, x16)  # our WAV decoding = Python's
    np.testing.assert_array_equal(wave16k, x16)  # no resampling at 16 kHz
    check_against_reference(x16, frames, windows)


def test_logmel_of_resampled_speech(tmp_path):
    """espeak-ng's 22.05 kHz output through our decoder and soxr: the log-mel
    of our 16 kHz waveform matches the reference's; the waveform itself
    matches scipy's polyphase resampler in the band both keep."""
    path = espeak(tmp_path, " ".join(SPEECH[:2]), "speech22k", voice="en-gb", speed=175)
    x22, rate = read_wav(path)
    assert rate == 22050
    info, native, wave16k, frames, windows = run_tool(tmp_path, path)
    assert info["source_rate"] == 22050 and info["channels"] == 1
    np.testing.assert_array_equal(native, x22)
    assert len(wave16k) == round(len(x22) * 16000 / 22050)
    check_against_reference(wave16k, frames, windows)
    # Two different anti-aliasing filters: compare below 6 kHz, where both are flat.
    from scipy.signal import butter, sosfiltfilt
    sos = butter(8, 6000, fs=16000, output="sos")
    ours, theirs = sosfiltfilt(sos, wave16k), sosfiltfilt(sos, to_16k(x22, 22050))
    err = np.sqrt(np.mean((ours - theirs) ** 2) / np.mean(theirs ** 2))
    assert err < 2e-4, err  # 3.3e-5 measured


def test_stereo_44k_flac_decodes_like_ffmpeg(tmp_path):
    """A second, independent decoder (ffmpeg through PyAV, faster-whisper's
    dependency) reads the same FLAC: samples identical."""
    import av
    rate = 44100
    t = np.arange(rate) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 300 * t), 0.25 * np.sin(2 * np.pi * 5000 * t)])
    pcm = np.round(stereo * 32767).astype(np.int16)
    path = tmp_path / "stereo.flac"
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1).copy(), format="s16", layout="stereo")
        frame.sample_rate = rate
        for p in list(stream.encode(frame)) + list(stream.encode(None)):
            out.mux(p)
    with av.open(str(path)) as f:
        # Packed s16 comes as [1, 2 n] (interleaved), planar as [2, n].
        decoded = np.concatenate([fr.to_ndarray().reshape(-1, 2) if not fr.format.is_planar
                                  else fr.to_ndarray().T for fr in f.decode(audio=0)])
    ref = (decoded.astype(np.float32) / 32768.0).mean(axis=1, dtype=np.float32)
    np.testing.assert_array_equal(decoded.T, pcm)  # the encoder kept every sample
    info, native, wave16k, frames, windows = run_tool(tmp_path, path)
    assert info["channels"] == 2 and info["source_rate"] == rate and "FLAC" in info["format"]
    np.testing.assert_allclose(native, ref, rtol=0, atol=1e-7)
    assert len(wave16k) == 16000


def test_bad_inputs_are_one_line_errors(tmp_path):
    cases = {
        "report.wav": b"Findings: none.\n",
        "empty.flac": b"",
        "header_only.wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00"
                           b"\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        r = subprocess.run([str(tool()), "--in", str(path)], capture_output=True, text=True)
        assert r.returncode == 2, (name, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], r.stderr


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no CUDA device")
def test_logmel_on_gpu_matches_reference(tmp_path):
    path = write_wav16(tmp_path / "gpu.wav", synthetic(), 16000)
    x16, _ = read_wav(path)
    _, _, _, frames, windows = run_tool(tmp_path, path, device="cuda")
    check_against_reference(x16, frames, windows)

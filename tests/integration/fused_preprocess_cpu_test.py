"""kernels.fused on a CPU run (issue 22): the fused kernels apply on CUDA only,
so `kernels.fused: true` must train exactly as `false` does (the LibTorch ops
and the loader's CPU preprocessing), and the log must say so. The demo images
are stored at the training size (64 x 64), which on CUDA would take the raw
stored-values path: here it must not."""
import json

from conftest import SOURCE, run, smoke_args


def losses(run_dir):
    with open(run_dir / "metrics.jsonl") as f:
        return [(r["step"], r["loss"]) for r in map(json.loads, f) if r.get("kind") == "train"]


def test_cpu_run_with_fused_true_trains_as_fused_false(demo_data, tmp_path):
    out = {}
    for fused in ("true", "false"):
        r = run("train", *smoke_args(demo_data, tmp_path, f"fused_{fused}", "--set", f"kernels.fused={fused}",
                                     "--set", "data.image_size=64", "--set", "run.device=cpu",
                                     "--set", "data.augment=true", "--set", "run.max_steps=4"))
        assert r.returncode == 0, r.stderr
        out[fused] = r.stdout + r.stderr
    assert "kernels: LibTorch ops (kernels.fused=true applies on CUDA only" in out["true"], out["true"]
    assert "kernels: LibTorch ops (kernels.fused=false)" in out["false"]
    for text in out.values():
        assert "preprocess: on the CPU in the loader (no fused kernels on this run)" in text, text
        assert "preprocess: on the device" not in text
    fused, plain = losses(tmp_path / "fused_true"), losses(tmp_path / "fused_false")
    assert len(fused) == 4 and fused == plain, (fused, plain)

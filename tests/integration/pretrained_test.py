"""End to end: `model.pretrained` starts `medtrain train` from torchvision weights
(3-channel ImageNet stem summed for 1-channel CT, new 2-class head kept by
`model.pretrained_skip`), from an earlier run's checkpoint folder, and fails with
one clear line for a missing file or weights of another architecture."""
import torch
import torchvision
from safetensors.numpy import load_file

from conftest import assert_user_error, run, smoke_args

# A learning rate too small to move the weights in 6 steps: what the checkpoint
# holds is then what was loaded.
FROZEN = ["--set", "optim.lr=1e-12", "--set", "optim.weight_decay=0"]


def torchvision_file(tmp_path, arch="resnet18"):
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None)  # ImageNet shape: 3 channels, 1000 classes
    path = tmp_path / f"{arch}.pth"
    torch.save(model.state_dict(), path)
    return model.state_dict(), path


def test_train_from_torchvision_pth(tmp_path, demo_data):
    state, pth = torchvision_file(tmp_path)
    runs = tmp_path / "runs"
    r = run("train", *smoke_args(demo_data, runs, "pre", "--set", f"model.pretrained={pth}",
                                 "--set", "model.pretrained_skip=[fc]", *FROZEN))
    assert r.returncode == 0, r.stderr
    assert f"model.pretrained: loaded 120 tensors from {pth} (PyTorch zip)" in r.stdout, r.stdout
    assert "conv1.weight: summed its 3 input channels" in r.stdout
    weights = load_file(str(runs / "pre/ckpt/latest/model.safetensors"))
    expected_stem = state["conv1.weight"].sum(1, keepdim=True).numpy()
    assert abs(weights["conv1.weight"] - expected_stem).max() < 1e-6
    assert abs(weights["layer4.1.conv2.weight"] - state["layer4.1.conv2.weight"].numpy()).max() < 1e-6
    assert weights["fc.weight"].shape == (2, 512)

    # A checkpoint folder of that run as the start of the next one.
    r2 = run("train", *smoke_args(demo_data, runs, "again", "--set", f"model.pretrained={runs / 'pre/ckpt'}",
                                  *FROZEN))
    assert r2.returncode == 0, r2.stderr
    assert f"from {runs / 'pre/ckpt/latest/model.safetensors'} (safetensors)" in r2.stdout, r2.stdout
    again = load_file(str(runs / "again/ckpt/latest/model.safetensors"))
    assert abs(again["fc.weight"] - weights["fc.weight"]).max() < 1e-6


def test_pretrained_errors_are_one_line(tmp_path, demo_data):
    runs = tmp_path / "runs"
    missing = tmp_path / "nope.pth"
    r = run("train", *smoke_args(demo_data, runs, "x", "--set", f"model.pretrained={missing}"))
    assert_user_error(r, "model.pretrained", f"cannot open pretrained weights {missing}")

    _, dense = torchvision_file(tmp_path, "densenet121")
    r = run("train", *smoke_args(demo_data, runs, "y", "--set", f"model.pretrained={dense}"))
    assert_user_error(r, "model.pretrained", f"PyTorch zip {dense} does not fit the model",
                      "missing: conv1.weight", "unexpected: classifier.bias")

    empty = tmp_path / "empty_dir"
    empty.mkdir()
    r = run("train", *smoke_args(demo_data, runs, "z", "--set", f"model.pretrained={empty}"))
    assert_user_error(r, "model.pretrained", f"{empty} is a folder without model.safetensors")


def test_a_task_that_does_not_fit_the_model_or_data_is_a_user_error(tmp_path, demo_data):
    runs = tmp_path / "runs"
    # A U-Net segments: asked to classify, it is refused before any work.
    r = run("train", *smoke_args(demo_data, runs, "seg", "--set", "model.name=unet2d", "--set", "model.task=multiclass"))
    assert_user_error(r, "model.task multiclass does not fit model.name unet2d")
    # Segmenting needs masks: the smoke manifest has labels only.
    r = run("train", *smoke_args(demo_data, runs, "seg", "--set", "model.name=unet2d"))
    assert_user_error(r, "model.task segmentation needs a 'mask' column")
    # A classifier cannot segment.
    r = run("train", *smoke_args(demo_data, runs, "seg", "--set", "model.task=segmentation"))
    assert_user_error(r, "does not fit model.name resnet18")


def test_unet_inputs_too_small_for_its_four_poolings_are_named(tmp_path, demo_data):
    runs = tmp_path / "runs"
    r = run("train", *smoke_args(demo_data, runs, "seg", "--set", "model.name=unet2d", "--set", "data.image_size=8"))
    assert_user_error(r, "data.image_size 8: model.name unet2d halves each side 4 times, so inputs need >= 16")
    r = run("train", *smoke_args(demo_data, runs, "seg3", "--set", "model.name=unet3d", "--set", "data.depth=16",
                                 "--set", "data.patch_size=24", "--set", "data.patch_depth=8"))
    assert_user_error(r, "data.patch_depth 8: model.name unet3d")

"""Bad input from the user: each case exits 2 with exactly one line on stderr
that names the problem and where it is; nothing crashes, nothing hangs."""
import shutil

import pytest

from conftest import SOURCE, assert_user_error, run, smoke_args


def write(path, text):
    path.write_text(text)
    return path


def test_missing_config_file(tmp_path):
    assert_user_error(run("train", "-c", tmp_path / "nope.yaml"), "nope.yaml", "no such file")


def test_yaml_syntax_error(tmp_path):
    cfg = write(tmp_path / "bad.yaml", "run:\n  name: [unclosed\n")
    assert_user_error(run("config", "check", "-c", cfg), "bad.yaml:", "YAML syntax error")


def test_unknown_key_suggests_the_right_one(tmp_path):
    cfg = write(tmp_path / "x.yaml", "optim:\n  lrr: 0.1\n")
    assert_user_error(run("config", "check", "-c", cfg), "optim.lrr", "x.yaml:2", "optim.lr")


def test_wrong_type(tmp_path):
    cfg = write(tmp_path / "x.yaml", "optim:\n  lr: fast\n")
    assert_user_error(run("config", "check", "-c", cfg), "optim.lr", "x.yaml:2", "fast")


def test_negative_learning_rate_from_the_command_line(tmp_path):
    cfg = write(tmp_path / "x.yaml", "run:\n  name: x\n")
    assert_user_error(run("config", "check", "-c", cfg, "--set", "optim.lr=-0.1"), "optim.lr", "-0.1")


def test_bad_flag():
    assert_user_error(run("train", "--no-such-flag"), "--no-such-flag")


def test_dataset_path_that_does_not_exist(tmp_path):
    r = run("train", *smoke_args(tmp_path / "missing", tmp_path / "runs"))
    assert_user_error(r, "manifest.csv")


def test_manifest_row_naming_a_missing_file(tmp_path, demo_data):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    rows = (data / "manifest.csv").read_text().splitlines()
    victim = rows[3].split(",")[0]
    (data / victim).unlink()
    assert_user_error(run("train", *smoke_args(data, tmp_path / "runs")), "manifest.csv:4", victim)


def test_file_that_is_not_dicom(tmp_path, demo_data):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    rows = (data / "manifest.csv").read_text().splitlines()
    train_rows = [r for r in rows[1:] if r.endswith(",train")]
    for row in train_rows:  # every training file, so the first batch must hit one
        (data / row.split(",")[0]).write_bytes(b"this is not a DICOM file" * 40)
    r = run("train", *smoke_args(data, tmp_path / "runs"))
    assert_user_error(r, "DICOM")
    assert any(row.split(",")[0] in r.stderr for row in train_rows), r.stderr


def test_resume_pointing_at_nothing(tmp_path, demo_data):
    r = run("train", *smoke_args(demo_data, tmp_path / "runs"), "--resume", tmp_path / "no_ckpt")
    assert_user_error(r, "--resume", "no_ckpt")


def test_checkpoint_with_a_wrong_checksum(tmp_path, demo_data):
    runs = tmp_path / "runs"
    assert run("train", *smoke_args(demo_data, runs, "ok", "--set", "run.max_steps=3")).returncode == 0
    weights = runs / "ok/ckpt/latest/model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-5] ^= 0x40
    weights.write_bytes(bytes(blob))
    r = run("train", *smoke_args(demo_data, runs, "ok"), "--resume", "auto")
    assert_user_error(r, "model.safetensors", "SHA-256")
    r = run("eval", "-c", SOURCE / "configs/smoke.yaml", "--set", f"data.root={demo_data}",
            "--set", f"data.manifest={demo_data}/manifest.csv", "--checkpoint", runs / "ok/ckpt/latest")
    assert_user_error(r, "model.safetensors")


@pytest.mark.parametrize("cmd", [[], ["train"], ["eval"], ["config"], ["config", "check"], ["models"],
                                 ["demo-data"]])
def test_help_on_every_command(cmd):
    r = run(*cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout or "usage" in r.stdout.lower()


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("medtrain 0.") and "LibTorch 2.11" in r.stdout


def test_missing_config_flag():
    assert_user_error(run("train"), "-c/--config", "required")

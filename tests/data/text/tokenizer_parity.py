"""What the WordPiece and byte-level BPE parity tests share: running
data/text's tokenizer through tests/tools/tokenize_tool, and comparing its
encodings with Hugging Face `tokenizers`' field by field."""
import json
import os
import pathlib
import subprocess


def tool():
    build = pathlib.Path(os.environ.get("MEDTRAIN_BUILD_DIR", "build"))
    exe = build / "tests" / "tools" / "tokenize_tool" / "tokenize_tool"
    assert exe.is_file(), f"{exe} not built: cmake --build build --target tokenize_tool"
    return exe


def run_tokenize_tool(tmp_path, lines, tokenizer_args, *flags):
    """One JSON row per line of `lines` (bytes), from tokenize_tool with
    `tokenizer_args` (e.g. ["--tokenizer", path]) and `flags`."""
    src = tmp_path / "lines.txt"
    src.write_bytes(b"".join(l + b"\n" for l in lines))
    out = tmp_path / "out.jsonl"
    subprocess.run([str(tool()), *tokenizer_args, "--in", str(src), "--out", str(out), *flags],
                   check=True, timeout=120)
    # Not splitlines(): decoded text may hold U+2028, U+0085... unescaped; only '\n' ends a row.
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").split("\n") if l]
    assert len(rows) == len(lines)
    return rows


def compare(ours, theirs, texts, max_report=8):
    """Returns a list of readable mismatch descriptions (empty when identical)."""
    bad = []
    for i, (o, e) in enumerate(zip(ours, theirs)):
        ref = {"ids": e.ids, "type_ids": e.type_ids, "attention_mask": e.attention_mask,
               "special_tokens_mask": e.special_tokens_mask, "offsets": [list(x) for x in e.offsets]}
        diff = [k for k in ref if o[k] != ref[k]]
        if diff:
            bad.append(f"line {i} {texts[i]!r:.120}: {diff[0]} ours={o[diff[0]][:40]} hf={ref[diff[0]][:40]}")
    if bad:
        print(f"{len(bad)} mismatches:\n" + "\n".join(bad[:max_report]))
    return bad

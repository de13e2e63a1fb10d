"""Independent reference for tests/trainer/metrics/word_error_rate_parity_test.cpp.

    word_error_rate_reference.py OUT_DIR

Writes OUT_DIR/cases.json: a list of {"ref", "hyp", "word_edits", "ref_words",
"char_edits", "ref_chars"} for 300 random pairs of already-normalised text (lower-case
words of a small vocabulary, some non-ASCII, one space between words, the hypothesis
made from the reference by random word and letter edits; empty texts included), the
counts by jiwer 4.0.0: process_words / process_characters, substitutions + deletions +
insertions, and the reference length (hits + substitutions + deletions). Fixed seed."""
import importlib.metadata
import json
import os
import random
import sys

import jiwer

VOCAB = [
    "pleural", "effusion", "no", "acute", "findings", "five", "millimeters", "nodule",
    "left", "right", "lower", "lobe", "the", "a", "of", "is", "patient's", "x", "ray",
    "zero", "point", "twenty", "one", "hundred", "opacité", "ödem", "μm", "\ufffd", "α",
]
LETTERS = "abcdeéöxyz"  # no apostrophe: an edit could move it to a word's edge


def mutate_word(rng, w):
    """One letter replaced, deleted or inserted; never an empty word."""
    op = rng.choice(["sub", "del", "ins"] if len(w) > 1 else ["sub", "ins"])
    k = rng.randrange(len(w))
    if op == "sub":
        return w[:k] + rng.choice(LETTERS) + w[k + 1:]
    if op == "del":
        return w[:k] + w[k + 1:]
    return w[:k] + rng.choice(LETTERS) + w[k:]


def hypothesis(rng, ref_words):
    out = []
    for w in ref_words:
        r = rng.random()
        if r < 0.08:
            continue  # deletion
        if r < 0.16:
            out.append(rng.choice(VOCAB))  # substitution (or a hit by chance)
        elif r < 0.24:
            out.append(mutate_word(rng, w))
        else:
            out.append(w)
        if rng.random() < 0.08:
            out.append(rng.choice(VOCAB))  # insertion
    if rng.random() < 0.05:
        out.insert(0, rng.choice(VOCAB))
    return out


def counts(ref, hyp):
    w = jiwer.process_words(ref, hyp)
    c = jiwer.process_characters(ref, hyp)
    return {
        "ref": ref,
        "hyp": hyp,
        "word_edits": w.substitutions + w.deletions + w.insertions,
        "ref_words": w.hits + w.substitutions + w.deletions,
        "char_edits": c.substitutions + c.deletions + c.insertions,
        "ref_chars": c.hits + c.substitutions + c.deletions,
    }


def main():
    rng = random.Random(15)
    cases = []
    for i in range(300):
        n = 0 if i % 50 == 0 else rng.randint(1, 25)
        ref_words = [rng.choice(VOCAB) for _ in range(n)]
        hyp_words = [] if i % 37 == 0 else hypothesis(rng, ref_words)
        if n == 0 and not hyp_words:
            hyp_words = [rng.choice(VOCAB) for _ in range(rng.randint(1, 4))]
        cases.append(counts(" ".join(ref_words), " ".join(hyp_words)))
    with open(os.path.join(sys.argv[1], "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
    print(f"{len(cases)} cases, jiwer {importlib.metadata.version('jiwer')}")


if __name__ == "__main__":
    main()

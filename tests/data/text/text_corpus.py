"""A deterministic corpus of byte lines for the WordPiece parity test.

Each generator returns lines as bytes without b"\\n". The mix follows what
clinical text and its exports contain: report prose, accents, CJK, emoji,
control characters, invalid UTF-8, very long words and odd whitespace.
"""
import random
import unicodedata

FINDINGS = ["pneumothorax", "pleural effusion", "cardiomegaly", "consolidation", "atelectasis",
            "pulmonary edema", "fracture", "nodule", "hiatal hernia", "emphysema", "pneumonia"]
HEDGES = ["No", "No evidence of", "Cannot exclude", "Possible", "Small", "Moderate", "Large",
          "Interval increase in", "Resolved", "Stable"]
PLACES = ["right lower lobe", "left apex", "lingula", "RUL", "L4-L5", "retrocardiac region"]
ACCENTED = ["Crème", "brûlée", "naïve", "Ærø", "Straße", "São Paulo", "Łódź", "Dvořák", "Việt Nam",
            "ÉCHOGRAPHIE", "Größe", "Müller", "niño", "façade", "İstanbul", "Ωμέγα", "ΣΊΣΥΦΟΣ",
            "Ёлка", "Ğüşöç", "Å", "e\u0301", "a\u0316\u0301", "ǅ", "ﬁnal", "Ⅻ", "ＡＢＣ１２３", "𝐀𝐁"]
SCRIPTS = ["日本語のテキスト", "中文报告：右肺下叶结节。", "한국어 보고서", "胸部Ｘ線：異常なし", "𠀀𠀁𪜀",
           "ภาษาไทย", "हिन्दी रिपोर्ट", "العربية", "עברית", "Ελληνικά", "Русский текст", "ㄅㄆㄇ",
           "豈更車", "ｶﾀｶﾅ", "〇〈〉「」、。"]
EMOJI = ["😀", "🩺", "❤️", "👍🏽", "👨‍⚕️", "🇫🇷", "🫁", "💊", "©", "®", "™", "°", "±", "µ", "→", "€"]
CONTROLS = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1c", "\x1f", "\x7f", "\x85",
            "\u200b", "\u200d", "\ufeff", "\u200e", "\u202e", "\u00ad", "\ue000", "\U000f0000", "\ufffd"]
SPACES = [" ", "  ", "\t", "\r", "\u00a0", "\u2002", "\u2003", "\u2009", "\u200a", "\u3000",
          "\u2028", "\u2029", "\u202f", "\u205f", "\u1680", " \t \r "]
PUNCT = [".", ",", ";", ":", "!", "?", "(", ")", "[", "]", "/", "-", "—", "–", "…", "«", "»", "“",
         "”", "'", "\"", "$", "+", "<", "=", ">", "^", "`", "|", "~", "#", "%", "&", "*", "@", "\\",
         "_", "{", "}", "¿", "¡", "§", "¶", "・", "※"]
SPECIALS = ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[SEP", "[[SEP]]", "[MASK][SEP]"]
INVALID = [b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc0\xaf", b"\xc3", b"\xe6\x97", b"\xed\xa0\x80",
           b"\xf4\x90\x80\x80", b"\xf0\x9f\x98", b"\xe0\x80\x80", b"\xc3\x28", b"\xf8\x88\x80\x80\x80"]


def report_line(rng):
    parts = [f"{rng.choice(HEDGES)} {rng.choice(FINDINGS)} in the {rng.choice(PLACES)}."]
    if rng.random() < 0.5:
        parts.append(f"BP {rng.randint(90, 180)}/{rng.randint(50, 110)}mmHg, T={rng.uniform(35, 41):.1f}°C,"
                     f" SpO2 {rng.randint(80, 100)}%.")
    if rng.random() < 0.3:
        parts.append(f"MRN {rng.randint(10**6, 10**7)}; DOB {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/"
                     f"{rng.randint(1930, 2020)}; Dr. O'Brien-Smith (tel. +1-555-{rng.randint(1000, 9999)}).")
    if rng.random() < 0.3:
        parts.append("IMPRESSION: " + rng.choice(FINDINGS).upper() + " — follow-up CT in 3–6 months.")
    return " ".join(parts)


def long_word(rng):
    n = rng.choice([99, 100, 101, 150, 300, 1000])
    alphabet = rng.choice(["abcdefghij", "xyz", "é", "日", "ab😀", "ü"])
    return "".join(rng.choice(alphabet) for _ in range(n))


def mixed_line(rng):
    pools = [FINDINGS, ACCENTED, SCRIPTS, EMOJI, CONTROLS, PUNCT, SPECIALS]
    pieces = []
    for _ in range(rng.randint(1, 12)):
        pieces.append(rng.choice(rng.choice(pools)))
        pieces.append(rng.choice(SPACES) if rng.random() < 0.7 else "")
    return "".join(pieces)


def stable_since_unicode_3_2(c):
    """Assigned in Unicode 3.2 with the same category today: HF's older category
    tables and utf8proc agree on these (Note [Unicode versions] in unicode_props.h)."""
    ch = chr(c)
    cat = unicodedata.category(ch)
    return cat != "Cn" and cat != "Cs" and unicodedata.ucd_3_2_0.category(ch) == cat


def random_unicode(rng):
    out = []
    for _ in range(rng.randint(1, 20)):
        while True:
            c = rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x2fff), rng.randint(0x3000, 0xffff),
                            rng.randint(0x10000, 0x2ffff)])
            if c != 0x0A and stable_since_unicode_3_2(c):
                break
        out.append(chr(c))
        if rng.random() < 0.3:
            out.append(" ")
    return "".join(out)


def with_invalid_bytes(rng, line: bytes):
    for _ in range(rng.randint(1, 3)):
        pos = rng.randint(0, len(line))
        line = line[:pos] + rng.choice(INVALID) + line[pos:]
    return line.replace(b"\n", b" ")


def corpus(n_lines=12000, seed=1234):
    rng = random.Random(seed)
    makers = [report_line] * 4 + [mixed_line] * 3 + [long_word, random_unicode,
                                                      lambda r: " ".join(r.choice(ACCENTED) for _ in range(6)),
                                                      lambda r: " ".join(r.choice(SCRIPTS) for _ in range(3))]
    lines = []
    for i in range(n_lines):
        text = rng.choice(makers)(rng)
        if rng.random() < 0.15:
            text = f"{text} {long_word(rng)} {report_line(rng)}"
        raw = text.replace("\n", " ").encode("utf-8", errors="surrogatepass")
        if rng.random() < 0.12:
            raw = with_invalid_bytes(rng, raw)
        lines.append(raw)
    lines += [b"", b" ", b"\t\r", b"\x00", "\ufffd".encode(), b"[SEP]", b"\xff\xfe"]
    return lines


# Extras for byte-level BPE (GPT-2's split pattern): contractions, digit runs,
# runs of spaces, tabs and newlines, and Whisper's special and timestamp tokens
# written in the text. Lines may hold b"\n": pass them hex-encoded.
CONTRACTIONS = ["don't", "Don't", "DON'T", "it's", "It'S", "we're", "they've", "I'm", "you'll", "he'd",
                "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "''s", "rock'n'roll", "o'clock", "ma'am",
                "x.'s", "’s", "l'été", "'", "''", "'sun", "'LL"]
NUMBERS = ["0", "7", "42", "1000000", "3.14159", "1,234,567", "12:30", "2026-12-06", "٣٤", "²", "½",
           "Ⅻ", "①", "١٢٣", "१२३", "12th", "x2", "2x", "-5", "+1-555-0100"]
WHITESPACE = [" ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\n ", "\r\n", " \t ", "\u00a0", "\u3000",
              "\u2028", "\x0b\x0c", "        "]
WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>",
                    "<|0.00|>", "<|1.08|>", "<|30.00|>", "<|30.02|>", "<|nospeech|>", "<|endoftext",
                    "<|<|en|>|>", "<|EN|>", " <|en|> "]


def byte_level_line(rng):
    pools = [CONTRACTIONS, NUMBERS, WHITESPACE, WHISPER_SPECIALS, FINDINGS, ACCENTED, EMOJI, PUNCT, SCRIPTS]
    weights = [4, 3, 4, 1, 3, 1, 1, 2, 1]
    pieces = []
    for _ in range(rng.randint(1, 16)):
        pieces.append(rng.choice(rng.choices(pools, weights)[0]))
        if rng.random() < 0.6:
            pieces.append(rng.choice(WHITESPACE) if rng.random() < 0.3 else " ")
    return "".join(pieces)


def byte_level_corpus(n_extra=3000, seed=4321):
    """corpus() plus lines for byte-level BPE (they may contain b"\\n")."""
    rng = random.Random(seed)
    extra = []
    for _ in range(n_extra):
        text = byte_level_line(rng)
        if rng.random() < 0.1:
            text = report_line(rng) + rng.choice(WHITESPACE) + text
        raw = text.encode("utf-8")
        if rng.random() < 0.05:
            raw = with_invalid_bytes(rng, raw)
        extra.append(raw)
    extra += [b"\n", b"\n\n\n", b"   ", b"a   ", b"   a", b" \n a", b"<|0.00|> Hello<|1.00|>",
              ("9" * 500).encode(), ("don't " * 50).encode()]
    return corpus() + extra

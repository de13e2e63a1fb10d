// The nesting pre-scan (data/dicom/dicom_depth_check.h) on files built byte by byte
// here: every encoding it claims to read, defined and undefined lengths, the
// limit's edge, truncation at every byte, and files DCMTK itself must parse.
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>

#include "data/data_error.h"
#include "data/dicom/dicom_codecs.h"
#include "data/dicom/dicom_decode.h"
#include "data/dicom/dicom_depth_check.h"
#include "data/dicom/dicom_guarded_read.h"

namespace medtrain::data {
namespace {

struct Enc {
  bool explicit_vr = true;
  bool big = false;
};

void put16(std::string& s, uint16_t v, bool big) {
  if (big) {
    s += static_cast<char>(v >> 8);
    s += static_cast<char>(v & 0xFF);
  } else {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>(v >> 8);
  }
}

void put32(std::string& s, uint32_t v, bool big) {
  if (big) {
    put16(s, static_cast<uint16_t>(v >> 16), true);
    put16(s, static_cast<uint16_t>(v & 0xFFFF), true);
  } else {
    put16(s, static_cast<uint16_t>(v & 0xFFFF), false);
    put16(s, static_cast<uint16_t>(v >> 16), false);
  }
}

std::string element(uint16_t g, uint16_t e, const char* vr, const std::string& value, Enc enc) {
  std::string s;
  put16(s, g, enc.big);
  put16(s, e, enc.big);
  const std::string v(vr);
  const bool long_form = v == "OB" || v == "OW" || v == "SQ" || v == "UN" || v == "UT";
  if (!enc.explicit_vr) {
    put32(s, static_cast<uint32_t>(value.size()), enc.big);
  } else if (long_form) {
    s += v;
    s += std::string(2, '\0');
    put32(s, static_cast<uint32_t>(value.size()), enc.big);
  } else {
    s += v;
    put16(s, static_cast<uint16_t>(value.size()), enc.big);
  }
  return s + value;
}

// A Content Sequence (0040,A730) header: undefined length, or `len`.
std::string sequence_head(Enc enc, uint32_t len, const char* vr = "SQ") {
  std::string s;
  put16(s, 0x0040, enc.big);
  put16(s, 0xA730, enc.big);
  if (enc.explicit_vr) {
    s += vr;
    s += std::string(2, '\0');
  }
  put32(s, len, enc.big);
  return s;
}

std::string item_head(Enc enc, uint32_t len) {
  std::string s;
  put16(s, 0xFFFE, enc.big);
  put16(s, 0xE000, enc.big);
  put32(s, len, enc.big);
  return s;
}

std::string delim(Enc enc, uint16_t e) {
  std::string s;
  put16(s, 0xFFFE, enc.big);
  put16(s, e, enc.big);
  put32(s, 0, enc.big);
  return s;
}

// `depth` nested Content Sequences, each with one item holding a text element
// and the next level (the innermost item an odd-length value); undefined lengths
// with delimiters, or defined lengths. Built front to back (linear in depth).
std::string nested(int depth, Enc enc, bool defined) {
  const std::string text = element(0x0040, 0xA040, "CS", "TEXT", enc);
  const std::string innermost = element(0x0040, 0xA160, "UT", "odd", enc);  // odd length on purpose
  std::string s = element(0x0008, 0x0060, "CS", "SR", enc);
  const size_t level = sequence_head(enc, 0).size() + item_head(enc, 0).size() + text.size();
  for (int i = depth; i >= 1; --i) {  // level i holds i - 1 levels below it
    const size_t below = static_cast<size_t>(i - 1) * level + innermost.size();
    if (defined) {
      const size_t item = text.size() + below;
      s += sequence_head(enc, static_cast<uint32_t>(item_head(enc, 0).size() + item)) +
           item_head(enc, static_cast<uint32_t>(item)) + text;
    } else {
      s += sequence_head(enc, 0xFFFFFFFF) + item_head(enc, 0xFFFFFFFF) + text;
    }
  }
  s += innermost;
  if (!defined) {
    const std::string close = delim(enc, 0xE00D) + delim(enc, 0xE0DD);
    s.reserve(s.size() + close.size() * static_cast<size_t>(depth));
    for (int i = 0; i < depth; ++i) s += close;
  }
  return s + element(0x0020, 0x0013, "IS", "42", enc);
}

std::string part10(const std::string& dataset, const std::string& syntax) {
  const Enc le;
  auto ui = [](std::string v) {
    if (v.size() % 2) v += '\0';
    return v;
  };
  const std::string meta = element(0x0002, 0x0001, "OB", std::string("\0\1", 2), le) +
                           element(0x0002, 0x0002, "UI", ui("1.2.840.10008.5.1.4.1.1.88.11"), le) +
                           element(0x0002, 0x0003, "UI", ui("1.2.3.4"), le) +
                           element(0x0002, 0x0010, "UI", ui(syntax), le);
  std::string group_length;
  put32(group_length, static_cast<uint32_t>(meta.size()), false);
  return std::string(128, '\0') + "DICM" + element(0x0002, 0x0000, "UL", group_length, le) + meta + dataset;
}

constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";
constexpr const char* kImplicitLE = "1.2.840.10008.1.2";
constexpr const char* kExplicitBE = "1.2.840.10008.1.2.2";
constexpr const char* kDeflated = "1.2.840.10008.1.2.1.99";

std::optional<std::string> check(const std::string& bytes, int limit = kMaxSequenceDepth) {
  return check_sequence_depth(bytes.data(), bytes.size(), limit);
}

// DCMTK's own parse of the same bytes: the files the scan accepts must be ones
// DCMTK reads, so the tests are about DICOM, not about this file's encoder.
bool dcmtk_parses(const std::string& bytes) {
  register_dicom_codecs();
  DcmFileFormat file;
  DcmInputBufferStream stream;
  stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  stream.setEos();
  file.transferInit();
  const OFCondition st = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file.transferEnd();
  return st.good();
}

TEST(DicomDepthCheck, ShallowFilesPassInEveryEncoding) {
  for (bool defined : {false, true}) {
    SCOPED_TRACE(defined ? "defined lengths" : "undefined lengths");
    const std::string le = part10(nested(10, {}, defined), kExplicitLE);
    EXPECT_EQ(check(le), std::nullopt);
    EXPECT_TRUE(dcmtk_parses(le));
    const std::string implicit = part10(nested(10, {false, false}, defined), kImplicitLE);
    EXPECT_EQ(check(implicit), std::nullopt);
    EXPECT_TRUE(dcmtk_parses(implicit));
    const std::string big = part10(nested(10, {true, true}, defined), kExplicitBE);
    EXPECT_EQ(check(big), std::nullopt);
    EXPECT_TRUE(dcmtk_parses(big));
  }
}

TEST(DicomDepthCheck, TheLimitIsExact) {
  for (bool defined : {false, true}) {
    for (Enc enc : {Enc{true, false}, Enc{false, false}, Enc{true, true}}) {
      const char* syntax = !enc.explicit_vr ? kImplicitLE : enc.big ? kExplicitBE : kExplicitLE;
      SCOPED_TRACE(std::string(syntax) + (defined ? " defined" : " undefined"));
      EXPECT_EQ(check(part10(nested(20, enc, defined), syntax), 20), std::nullopt);
      const auto problem = check(part10(nested(21, enc, defined), syntax), 20);
      ASSERT_TRUE(problem.has_value());
      EXPECT_NE(problem->find("more than 20 levels"), std::string::npos) << *problem;
    }
  }
  EXPECT_EQ(check(part10(nested(kMaxSequenceDepth, {}, false), kExplicitLE)), std::nullopt);
  EXPECT_TRUE(check(part10(nested(kMaxSequenceDepth + 1, {}, false), kExplicitLE)).has_value());
}

TEST(DicomDepthCheck, HundredThousandLevelsAreRefusedNotParsed) {
  // The reported crash: DCMTK recursed once per level and overflowed the stack.
  const std::string deep = part10(nested(100000, {}, false), kExplicitLE);
  const auto problem = check(deep);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("more than 64 levels"), std::string::npos) << *problem;
  EXPECT_TRUE(check(part10(nested(5000, {}, true), kExplicitLE)).has_value());
  // A bare data set (no preamble) is scanned too.
  EXPECT_TRUE(check(nested(100000, {}, false)).has_value());
  EXPECT_TRUE(check(nested(1000, {false, false}, false)).has_value());
}

std::string squeeze(const std::string& raw) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, raw.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(DicomDepthCheck, DeflatedDataSetsAreInflatedThenScanned) {
  const std::string shallow = part10(squeeze(nested(10, {}, false)), kDeflated);
  EXPECT_EQ(check(shallow), std::nullopt);
  EXPECT_TRUE(dcmtk_parses(shallow));
  // 100000 levels deflate to a few kilobytes: the bomb is small on disk.
  const std::string bomb = part10(squeeze(nested(100000, {}, false)), kDeflated);
  EXPECT_LT(bomb.size(), 100000u);
  EXPECT_TRUE(check(bomb).has_value());
}

TEST(DicomDepthCheck, TruncationAnywhereNeverCrashesAndNeverHidesDepth) {
  const std::string ok = part10(nested(6, {}, false), kExplicitLE);
  for (size_t n = 0; n <= ok.size(); ++n) EXPECT_EQ(check(ok.substr(0, n)), std::nullopt) << n;
  const std::string deep = part10(nested(300, {}, false), kExplicitLE);
  // Cut after about the 120th level opened (32 bytes each): what is there is still too deep.
  const size_t cut = deep.find(sequence_head({}, 0xFFFFFFFF)) + 120 * 32;
  EXPECT_TRUE(check(deep.substr(0, cut)).has_value());
  const std::string defined = part10(nested(6, {false, false}, true), kImplicitLE);
  for (size_t n = 0; n <= defined.size(); ++n) EXPECT_EQ(check(defined.substr(0, n)), std::nullopt) << n;
}

TEST(DicomDepthCheck, EncapsulatedPixelFragmentsAreNotNesting) {
  const Enc le;
  // Fragments whose bytes look like deep sequence openings: skipped by length.
  std::string fake;
  for (int i = 0; i < 200; ++i) fake += sequence_head(le, 0xFFFFFFFF) + item_head(le, 0xFFFFFFFF);
  std::string pixels;
  put16(pixels, 0x7FE0, false);
  put16(pixels, 0x0010, false);
  pixels += "OB";
  pixels += std::string(2, '\0');
  put32(pixels, 0xFFFFFFFF, false);
  pixels += item_head(le, 0) + item_head(le, static_cast<uint32_t>(fake.size())) + fake + delim(le, 0xE0DD);
  const std::string file = part10(nested(3, le, false) + pixels, "1.2.840.10008.1.2.4.70");
  EXPECT_EQ(check(file), std::nullopt);
  // ...whereas the same bytes as a data set are 200 levels.
  EXPECT_TRUE(check(part10(fake, kExplicitLE)).has_value());
}

TEST(DicomDepthCheck, UnknownVRUndefinedLengthIsAnImplicitSequence) {
  const Enc le, implicit{false, false};
  std::string body = nested(70, implicit, false);
  // Strip the two top-level elements around it: keep the nested sequences only.
  std::string un = sequence_head(le, 0xFFFFFFFF, "UN") + item_head(implicit, 0xFFFFFFFF) + body +
                   delim(implicit, 0xE00D) + delim(implicit, 0xE0DD);
  EXPECT_TRUE(check(part10(un, kExplicitLE)).has_value());
  un = sequence_head(le, 0xFFFFFFFF, "UN") + item_head(implicit, 0xFFFFFFFF) + nested(5, implicit, false) +
       delim(implicit, 0xE00D) + delim(implicit, 0xE0DD) + element(0x0020, 0x0013, "IS", "7 ", le);
  EXPECT_EQ(check(part10(un, kExplicitLE)), std::nullopt);
}

TEST(DicomDepthCheck, OddLengthsAndHugeLengthsAreSkippedNotRead) {
  const Enc le;
  // An odd-length value right before the nesting, and a length far past the end.
  std::string s = element(0x0008, 0x103E, "LO", "abc", le) + nested(70, le, false);
  EXPECT_TRUE(check(part10(s, kExplicitLE)).has_value());
  std::string huge;
  put16(huge, 0x0009, false);
  put16(huge, 0x1010, false);
  huge += "OB";
  huge += std::string(2, '\0');
  put32(huge, 0xFFFFFFF0u, false);
  // Skipped by offset, never read; but so far past the end that DCMTK would
  // allocate gigabytes for it: refused (Note [Declared lengths]).
  const auto problem = check(part10(huge + "xyz", kExplicitLE));
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("declares 4294967280 bytes"), std::string::npos) << *problem;
}

TEST(DicomDepthCheck, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string base = part10(nested(8, {}, false), kExplicitLE);
  for (int round = 0; round < 2000; ++round) {
    std::string s = base;
    for (int k = 0; k < 8; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    (void)check(s);
    std::string noise(rng() % 512, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    (void)check(noise);
  }
}

TEST(DicomDepthCheck, FilesAreScannedLikeMemory) {
  char name[] = "/tmp/medtrain_depth_XXXXXX";
  const int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  close(fd);
  // Large values between the levels: the file scan skips them without reading.
  const Enc le;
  std::string big = element(0x0009, 0x1010, "OB", std::string(300000, 'x'), le);
  for (int depth : {10, 65}) {
    const std::string bytes = part10(big + nested(depth, le, true) + big, kExplicitLE);
    std::ofstream(name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_EQ(check_sequence_depth_file(name).has_value(), depth > kMaxSequenceDepth);
    EXPECT_EQ(check(bytes).has_value(), depth > kMaxSequenceDepth);
  }
  unlink(name);
  EXPECT_EQ(check_sequence_depth_file("/nonexistent/file.dcm"), std::nullopt);  // the caller reports it
  EXPECT_EQ(check_sequence_depth_file("/dev/null"), std::nullopt);
}

// The readers behind inspect, pack and training refuse the file with a DataError
// naming it (so data.on_error: skip can skip it) instead of recursing in DCMTK:
// DCMTK itself overflows its stack on 10,000 levels (about 360 KB).
TEST(DicomDepthCheck, TrainingReadersRefuseDeepFilesAsDataErrors) {
  char name[] = "/tmp/medtrain_deep_XXXXXX";
  const int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string bytes = part10(nested(10000, {}, false), kExplicitLE);
  std::ofstream(name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  try {
    read_dicom_info(name);
    ADD_FAILURE() << "a 10000-level file was parsed";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(name), std::string::npos) << what;
    EXPECT_NE(what.find("nested more than 64 levels"), std::string::npos) << what;
  }
  unlink(name);
}


// Note [Declared lengths]: a small file declaring a value of gigabytes made DCMTK
// allocate them (a fuzzer find); a short truncation stays DCMTK's to report.
TEST(DicomDepthCheck, RefusesAValueDeclaredFarPastTheEnd) {
  auto with_value = [](uint32_t declared, size_t present) {
    std::string body;
    put16(body, 0x0009, false);
    put16(body, 0x1010, false);
    body += "OB";
    body += std::string(2, '\0');
    put32(body, declared, false);
    body += std::string(present, 'x');
    return part10(body, kExplicitLE);
  };
  const auto problem = check(with_value(0xC0000000u, 100));
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("(0009,1010)"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("3221225472 bytes"), std::string::npos) << *problem;
  EXPECT_EQ(check(with_value(4000, 100)), std::nullopt);  // an ordinary truncation
}


// Note [Reading as DCMTK reads]: headers the old model read differently from
// DCMTK 3.6.7. Each case nests 70 levels where DCMTK would look, so a model that
// skipped them would pass the file.
std::string explicit_element(uint16_t g, uint16_t e, const std::string& vr, uint32_t len, bool reserved) {
  std::string s;
  put16(s, g, false);
  put16(s, e, false);
  s += vr;
  if (reserved) {
    s += std::string(2, '\0');
    put32(s, len, false);
  } else {
    put16(s, static_cast<uint16_t>(len), false);
  }
  return s;
}

std::string implicit_nesting(int depth) {
  const Enc implicit{false, false};
  return item_head(implicit, 0xFFFFFFFF) + nested(depth, implicit, false) + delim(implicit, 0xE00D) +
         delim(implicit, 0xE0DD);
}

TEST(DicomDepthCheck, AFutureVROfUndefinedLengthIsAnImplicitSequence) {
  // The fuzzer's find: "ZZ" is no VR; DCMTK reads it as a future VR (2 reserved
  // bytes, 4-byte length) and, with an undefined length, as a sequence in implicit
  // VR little endian. The old scan read "ZZ" as the start of a length and skipped.
  const Enc le;
  const std::string deep = explicit_element(0x0011, 0x1010, "ZZ", 0xFFFFFFFF, true) + implicit_nesting(70);
  EXPECT_TRUE(check(part10(deep, kExplicitLE)).has_value());
  const std::string shallow = explicit_element(0x0011, 0x1010, "ZZ", 0xFFFFFFFF, true) + implicit_nesting(4) +
                              element(0x0020, 0x0013, "IS", "42", le);
  EXPECT_EQ(check(part10(shallow, kExplicitLE)), std::nullopt);
  EXPECT_TRUE(dcmtk_parses(part10(shallow, kExplicitLE)));
}

TEST(DicomDepthCheck, AnIllegalVRHasATwoByteLength) {
  // "z?" is illegal (not upper case): a 2-byte length, so the 70 levels after its
  // 4-byte value are read as DCMTK reads them.
  const Enc le;
  const std::string bytes = explicit_element(0x0011, 0x1010, "z?", 4, false) + "abcd" + nested(70, le, false);
  EXPECT_TRUE(check(part10(bytes, kExplicitLE)).has_value());
  const std::string ok = explicit_element(0x0011, 0x1010, "z?", 4, false) + "abcd" + nested(5, le, false);
  EXPECT_EQ(check(part10(ok, kExplicitLE)), std::nullopt);
  EXPECT_TRUE(dcmtk_parses(part10(ok, kExplicitLE)));
}

TEST(DicomDepthCheck, PixelDataDeclaredAsASequenceIsASequence) {
  const Enc le;
  // An item of defined length: read as a pixel fragment, it would be skipped whole.
  const std::string inner = nested(70, le, false);
  const std::string bytes = explicit_element(0x7FE0, 0x0010, "SQ", 0xFFFFFFFF, true) +
                            item_head(le, static_cast<uint32_t>(inner.size())) + inner + delim(le, 0xE0DD);
  EXPECT_TRUE(check(part10(bytes, kExplicitLE)).has_value());
}

TEST(DicomDepthCheck, AnItemDelimiterEndsAnItemOfDefinedLength) {
  // DCMTK ends the first item at its delimiter, then reads the next item of the
  // same sequence: the nesting inside it must be seen, not skipped as part of the
  // first item's declared length.
  const Enc le;
  const std::string inner = nested(70, le, false);
  const std::string second = item_head(le, static_cast<uint32_t>(inner.size())) + inner;
  const std::string bytes = sequence_head(le, 0xFFFFFFFF) + item_head(le, static_cast<uint32_t>(8 + second.size())) +
                            delim(le, 0xE00D) + second + delim(le, 0xE0DD);
  EXPECT_TRUE(check(part10(bytes, kExplicitLE)).has_value());
}

TEST(DicomDepthCheck, APrivateImplicitValueThatStartsWithAnItemIsScanned) {
  // DCMTK's private dictionary makes some private tags sequences (by creator).
  const Enc implicit{false, false};
  const std::string inner = item_head(implicit, 0xFFFFFFFF) + nested(70, implicit, false) + delim(implicit, 0xE00D);
  std::string bytes;
  put16(bytes, 0x0029, false);
  put16(bytes, 0x1010, false);
  put32(bytes, static_cast<uint32_t>(inner.size()), false);
  EXPECT_TRUE(check(part10(bytes + inner, kImplicitLE)).has_value());
  // A private value that is not a sequence is skipped whole, whatever it holds.
  std::string blob;
  put16(blob, 0x0029, false);
  put16(blob, 0x1010, false);
  const std::string body = "ABCD" + nested(70, implicit, false);
  put32(blob, static_cast<uint32_t>(body.size()), false);
  EXPECT_EQ(check(part10(blob + body, kImplicitLE)), std::nullopt);
}

TEST(DicomDepthCheck, ASequenceInTheFileMetaInformationIsRefused) {
  const Enc le;
  std::string file = part10(element(0x0020, 0x0013, "IS", "42", le), kExplicitLE);
  const std::string sq = explicit_element(0x0002, 0x0100, "SQ", 0, true);
  file.insert(132 + 12, sq);  // after (0002,0000)
  const auto problem = check(file);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("File Meta Information"), std::string::npos) << *problem;
}

// Note [Stack budget]: without the byte scan, DCMTK itself must stop with an
// error on any nesting, on any thread's stack, never overflow.
OFCondition guarded_parse(const std::string& bytes) {
  register_dicom_codecs();
  DcmFileFormat file;
  return read_dicom_guarded(file, bytes.data(), bytes.size());
}

TEST(DicomGuardedRead, DeepNestingUnwindsWithAnErrorOnAnyStack) {
  const std::string deep = part10(nested(100000, {}, false), kExplicitLE);
  EXPECT_TRUE(guarded_parse(deep) == kNestingBudgetExceeded);
  const std::string future = part10(explicit_element(0x0011, 0x1010, "ZZ", 0xFFFFFFFF, true) + implicit_nesting(50000),
                                    kExplicitLE);
  EXPECT_TRUE(guarded_parse(future) == kNestingBudgetExceeded);
  // A 256 KiB thread stack: the budget follows the stack it runs on.
  OFCondition on_small_stack;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  struct Job {
    const std::string* bytes;
    OFCondition* result;
  } job{&deep, &on_small_stack};
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* arg) -> void* {
                  auto* j = static_cast<Job*>(arg);
                  *j->result = guarded_parse(*j->bytes);
                  return nullptr;
                },
                &job),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(on_small_stack == kNestingBudgetExceeded) << on_small_stack.text();
}

TEST(DicomGuardedRead, OrdinaryFilesParseAsDcmtkParsesThem) {
  for (bool defined : {false, true}) {
    EXPECT_TRUE(guarded_parse(part10(nested(64, {}, defined), kExplicitLE)).good());
    EXPECT_TRUE(guarded_parse(part10(nested(10, {false, false}, defined), kImplicitLE)).good());
    EXPECT_TRUE(guarded_parse(part10(nested(10, {true, true}, defined), kExplicitBE)).good());
  }
  const std::string truncated = part10(nested(5, {}, false), kExplicitLE);
  EXPECT_FALSE(guarded_parse(truncated.substr(0, truncated.size() - 30)).good());
}


// Note [Meta as DCMTK reads it]: a fuzzer find. The group length covers a
// foreign element, then the deflated syntax UID; DCMTK reads both as meta and
// inflates the rest, so the scan must too (it read deflated bytes as plain ones).
TEST(DicomDepthCheck, AMetaGroupLengthCoversForeignElementsAsInDcmtk) {
  const Enc le;
  auto ui = [](std::string v) {
    if (v.size() % 2) v += '\0';
    return v;
  };
  const std::string meta = element(0x0002, 0x0001, "OB", std::string("\0\1", 2), le) +
                           element(0x4060, 0x0600, "LO", "ab", le) +
                           element(0x0002, 0x0010, "UI", ui(kDeflated), le);
  std::string group_length;
  put32(group_length, static_cast<uint32_t>(meta.size()), false);
  const std::string head = std::string(128, '\0') + "DICM" + element(0x0002, 0x0000, "UL", group_length, le) + meta;
  EXPECT_TRUE(check(head + squeeze(nested(100, le, false))).has_value());
  const std::string shallow = head + squeeze(nested(5, le, false));
  EXPECT_EQ(check(shallow), std::nullopt);
  EXPECT_TRUE(dcmtk_parses(shallow));
}

// Note [Declared lengths], the meta group: a fuzzer find while decode_dicom
// parsed files from a memory buffer, where DCMTK loads every value at once — a
// File Meta Information element declaring ~4 GB in a 10 KB file made it
// allocate 4 GB. The scan refuses it, and the decoder says so.
TEST(DicomDepthCheck, AMetaElementDeclaredFarPastTheEndIsRefused) {
  const Enc le;
  std::string file = part10(element(0x0020, 0x0013, "IS", "42", le), kExplicitLE) + std::string(10000, '\0');
  const std::string huge = explicit_element(0x0002, 0x0100, "OB", 0xFFFFFF02u, true);
  file.insert(132 + 12, huge);  // after (0002,0000)
  const auto problem = check(file);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("(0002,0100) at byte 144 declares 4294967042 bytes"), std::string::npos) << *problem;

  char name[] = "/tmp/medtrain_meta_len_XXXXXX";
  const int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(name, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
  try {
    decode_dicom(name, [](const std::vector<int64_t>&) -> float* { return nullptr; });
    ADD_FAILURE() << "a meta element declaring 4 GB was parsed";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("declares 4294967042 bytes"), std::string::npos) << e.what();
  }
  unlink(name);
}

// A fuzzer find: a transfer syntax UID damaged after its known prefix
// ("1.2.840.10008.1.2.1.;9") is unknown to DCMTK, which then guesses the
// encoding from the data set, here implicit VR; the scan read it as explicit VR
// and missed an element declaring 3.3 GB that DCMTK then allocated.
TEST(DicomDepthCheck, ADamagedSyntaxUidIsGuessedAsDcmtkGuessesIt) {
  std::string body;
  put16(body, 0xDDED, false);
  put16(body, 0x6ECF, false);
  put32(body, 0xC715D6DCu, false);
  body += std::string(4000, '\x5a');
  const auto problem = check(part10(body, "1.2.840.10008.1.2.1.;9"));
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("(DDED,6ECF) at byte"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("declares 3340097244 bytes"), std::string::npos) << *problem;
}

}  // namespace
}  // namespace medtrain::data

// The model.bin reader (models/asr/ct2_model_file.h) on files built field by
// field: every dtype and alias form reads back bit-exactly from unaligned
// offsets; every truncation, bad header, bad dtype, absurd size and misframed
// or invalid name is one ModelError naming the offset, from memory and from a
// file alike. Files written by ctranslate2 itself: whisper_ct2_test.cpp.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "models/asr/ct2_model_file.h"
#include "models/model_error.h"
#include "tests/common/temp_dir.h"
#include "tests/models/asr/ct2_bytes.h"

using medtrain::models::ModelError;
using medtrain::testing::Ct2Bytes;
using medtrain::testing::TempDir;
namespace asr = medtrain::models::asr;

namespace {

std::string le_floats(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// Every dtype, scalars of each integer width, a chained alias. The odd-length
// names put most data at unaligned offsets.
std::string good_file() {
  Ct2Bytes b;
  b.header().u32(6);
  b.var("a/f32x", {2, 3}, 0, le_floats({0, 1, 2, 3, 4, 5.5f}));
  b.var("a/f16", {3}, 4, std::string("\x00\x3c\x00\x40\x00\xc2", 6));  // 1, 2, -3
  b.var("a/bf16", {2}, 5, std::string("\x80\x3f\x00\xc0", 4));          // 1, -2
  b.var("b/i8", {}, 1, "\xff");
  b.var("b/i16", {}, 2, std::string("\xfe\xff", 2));
  b.var("b/i32", {}, 3, std::string("\x40\xe2\x01\x00", 4));  // 123456
  b.u32(2).str("c/alias").str("a/f32x").str("c/chained").str("c/alias");
  return b.out;
}

asr::Ct2ModelFile parse(const std::string& bytes, const asr::Ct2Expectation& expect = {}) {
  return asr::parse_ct2_model_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem", expect);
}

std::string error_of(const std::string& bytes, const asr::Ct2Expectation& expect = {}) {
  try {
    parse(bytes, expect);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no ModelError)";
}

std::string file_error_of(const std::string& path, const asr::Ct2Expectation& expect = {}) {
  try {
    asr::read_ct2_model_file(path, expect);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no ModelError)";
}

Ct2Bytes one_var_prefix() {
  Ct2Bytes b;
  b.header().u32(1);
  return b;
}

}  // namespace

TEST(Ct2ModelFile, EveryDtypeAndAliasReadsBackBitExactly) {
  const std::string bytes = good_file();
  TempDir dir("medtrain_ct2");
  const auto path = dir.write("model.bin", bytes);
  for (const asr::Ct2ModelFile& m : {parse(bytes), asr::read_ct2_model_file(path.string())}) {
    EXPECT_EQ(m.binary_version, 6u);
    EXPECT_EQ(m.spec, "WhisperSpec");
    EXPECT_EQ(m.spec_revision, 3u);
    ASSERT_EQ(m.variables.size(), 6u);
    const asr::Ct2Variable& f32 = m.variables[0];
    EXPECT_EQ(f32.name, "a/f32x");
    EXPECT_EQ(f32.shape, (std::vector<uint32_t>{2, 3}));
    EXPECT_EQ(f32.dtype, asr::Ct2DType::kF32);
    EXPECT_EQ(std::string(f32.bytes.begin(), f32.bytes.end()), le_floats({0, 1, 2, 3, 4, 5.5f}));
    EXPECT_EQ(bytes.substr(f32.offset, 24), le_floats({0, 1, 2, 3, 4, 5.5f}));
    EXPECT_EQ(m.variables[1].dtype, asr::Ct2DType::kF16);
    EXPECT_EQ(std::string(m.variables[1].bytes.begin(), m.variables[1].bytes.end()),
              std::string("\x00\x3c\x00\x40\x00\xc2", 6));
    EXPECT_EQ(m.variables[2].dtype, asr::Ct2DType::kBF16);
    EXPECT_EQ(m.variables[3].int_scalar("t"), -1);
    EXPECT_EQ(m.variables[4].int_scalar("t"), -2);
    EXPECT_EQ(m.variables[5].int_scalar("t"), 123456);
    EXPECT_NE(f32.offset % 4, 0u) << "the test should exercise unaligned data";
    EXPECT_EQ(m.variables[1].offset % 2, 1u) << "the test should exercise unaligned data";
    ASSERT_EQ(m.aliases.size(), 2u);
    EXPECT_EQ(m.find("c/alias"), &m.variables[0]);
    EXPECT_EQ(m.find("c/chained"), &m.variables[0]);
    EXPECT_EQ(m.find("nope"), nullptr);
  }
}

TEST(Ct2ModelFile, EveryTruncationIsAnErrorNamingTheOffset) {
  const std::string bytes = good_file();
  TempDir dir("medtrain_ct2");
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string cut = bytes.substr(0, n);
    const std::string e = error_of(cut);
    EXPECT_NE(e.find("mem: offset "), std::string::npos) << n << ": " << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << n << ": " << e;
    const std::string fe = file_error_of(dir.write("cut.bin", cut).string());
    EXPECT_NE(fe.find("truncated"), std::string::npos) << n << ": " << fe;
  }
}

TEST(Ct2ModelFile, UnsupportedVersionsAndForeignSpecsAreRefused) {
  for (const uint32_t v : {0u, 5u, 7u, 0xFFFFFFFFu}) {
    Ct2Bytes b;
    b.header(v).u32(0).u32(0);
    EXPECT_NE(error_of(b.out).find(fmt::format("offset 0: binary version {} is not supported", v)), std::string::npos)
        << error_of(b.out);
  }
  Ct2Bytes foreign;
  foreign.header(6, "TransformerSpec", 7).u32(0).u32(0);
  EXPECT_EQ(error_of(foreign.out), "(no ModelError)");  // the generic reader takes any spec
  EXPECT_NE(error_of(foreign.out, {"WhisperSpec", 3}).find("offset 4: spec \"TransformerSpec\" is not a WhisperSpec model"),
            std::string::npos);
  Ct2Bytes old;
  old.header(6, "WhisperSpec", 2).u32(0).u32(0);
  EXPECT_NE(error_of(old.out, {"WhisperSpec", 3}).find("WhisperSpec revision 2 is not supported"), std::string::npos);
}

TEST(Ct2ModelFile, BadDtypesAndAbsurdSizesAreErrorsNotAllocations) {
  auto with = [](auto&& add) {
    Ct2Bytes b = one_var_prefix();
    add(b);
    return error_of(b.out);
  };
  EXPECT_NE(with([](Ct2Bytes& b) { b.var("x", {1}, 6, "\x00"); }).find("unknown dtype id 6"), std::string::npos);
  EXPECT_NE(with([](Ct2Bytes& b) { b.var("x", {1}, 255, "\x00"); }).find("unknown dtype id 255"), std::string::npos);
  // 4 x (2^32 - 1) elements: the product overflows 64 bits.
  EXPECT_NE(with([](Ct2Bytes& b) { b.var("x", {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, 0, "", 0); })
                .find("overflows 64 bits"),
            std::string::npos);
  EXPECT_NE(with([](Ct2Bytes& b) { b.var("x", {2}, 0, "abcd"); }).find("byte count 4 does not match shape [2] of float32 (8 bytes)"),
            std::string::npos);
  // A consistent 4 GiB promise with nothing behind it: refused before allocating.
  EXPECT_NE(with([](Ct2Bytes& b) { b.var("x", {0xFFFFFFFF}, 1, "", 0xFFFFFFFF); })
                .find("truncated: variable data needs 4294967295 bytes"),
            std::string::npos);
  EXPECT_NE(with([](Ct2Bytes& b) { b.str("x").u8(255); }).find("truncated: dims needs 1020 bytes"), std::string::npos);
  Ct2Bytes many;
  many.header().u32(0xFFFFFFFF);
  EXPECT_NE(error_of(many.out).find("truncated"), std::string::npos);
  Ct2Bytes aliases;
  aliases.header().u32(0).u32(0xFFFFFFFF);
  EXPECT_NE(error_of(aliases.out).find("truncated"), std::string::npos);
}

TEST(Ct2ModelFile, MisframedOrInvalidNamesAreRefused) {
  auto named = [](const std::string& framed) {
    Ct2Bytes b = one_var_prefix();
    b.raw(framed).u8(0).u8(1).u32(1).raw("\x07");
    return error_of(b.out.append(4, '\0'));
  };
  auto framed = [](const std::string& body) {
    Ct2Bytes f;
    f.u16(static_cast<uint16_t>(body.size())).raw(body);
    return f.out;
  };
  EXPECT_NE(named(framed("")).find("variable name: length 0"), std::string::npos);
  EXPECT_NE(named(framed("ab")).find("does not end with NUL"), std::string::npos);
  EXPECT_NE(named(framed(std::string("a\0b\0", 4))).find("contains a NUL byte"), std::string::npos);
  EXPECT_NE(named(framed(std::string("\0", 1))).find("variable name: empty"), std::string::npos);
  for (const std::string bad : {"\xc0\x80", "\xff", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    EXPECT_NE(named(framed(bad + std::string("\0", 1))).find("not valid UTF-8"), std::string::npos) << bad;
  }
  // Valid UTF-8 that is not ASCII reads (ctranslate2's writer would misframe it, though).
  Ct2Bytes ok = one_var_prefix();
  ok.var("caf\xc3\xa9/\xe2\x82\xac", {}, 1, "\x01").u32(0);
  EXPECT_EQ(parse(ok.out).variables[0].name, "caf\xc3\xa9/\xe2\x82\xac");
}

TEST(Ct2ModelFile, DuplicateNamesDanglingAliasesAndTrailingBytesAreRefused) {
  Ct2Bytes twice;
  twice.header().u32(2).var("x", {}, 1, "\x01").var("x", {}, 1, "\x02").u32(0);
  EXPECT_NE(error_of(twice.out).find("variable x appears twice"), std::string::npos);
  Ct2Bytes dangling = one_var_prefix();
  dangling.var("x", {}, 1, "\x01").u32(1).str("y").str("z");
  EXPECT_NE(error_of(dangling.out).find("alias y points to z, which is no variable"), std::string::npos);
  Ct2Bytes shadow = one_var_prefix();
  shadow.var("x", {}, 1, "\x01").u32(1).str("x").str("x");
  EXPECT_NE(error_of(shadow.out).find("alias x repeats a name"), std::string::npos);
  Ct2Bytes trailing = one_var_prefix();
  trailing.var("x", {}, 1, "\x01").u32(0).raw("junk");
  EXPECT_NE(error_of(trailing.out).find("4 bytes after the aliases"), std::string::npos);
}

TEST(Ct2ModelFile, ScalarsAreReadOnlyAsIntegers) {
  Ct2Bytes b = one_var_prefix();
  b.var("f", {}, 0, le_floats({1.5f})).u32(0);
  const asr::Ct2ModelFile m = parse(b.out);
  try {
    m.variables[0].int_scalar("mem");
    FAIL() << "a float scalar read as an integer";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("variable f should be an integer scalar, is float32 []"), std::string::npos);
  }
}

TEST(Ct2ModelFile, OnlyRegularFilesAreOpened) {
  TempDir dir("medtrain_ct2");
  EXPECT_NE(file_error_of(dir.str()).find("not a regular file"), std::string::npos);
  const std::string fifo = dir.str("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(file_error_of(fifo).find("not a regular file"), std::string::npos);  // and does not block
  EXPECT_NE(file_error_of(dir.str("missing.bin")).find("cannot open"), std::string::npos);
}

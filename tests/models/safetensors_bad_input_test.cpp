// Malformed safetensors input: every check of the reader gives a ModelError that
// names the file and the problem, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <torch/torch.h>

#include "models/model_error.h"
#include "models/safetensors.h"
#include "tests/common/temp_dir.h"

namespace fs = std::filesystem;
using medtrain::models::load_safetensors;
using medtrain::models::ModelError;
using medtrain::models::parse_safetensors;
using medtrain::models::safetensors_bytes;

namespace {

constexpr const char* kOrigin = "runs/x/bad.safetensors";

// A file with `header` as its JSON (length prefix computed) and `data` after it.
std::string file_with(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string u64_prefix(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

// Asserts that parsing fails with a message naming the file and containing `problem`.
void expect_rejected(const std::string& bytes, const std::string& problem) {
  try {
    parse_safetensors(bytes, kOrigin);
    ADD_FAILURE() << "accepted a file that should fail with: " << problem;
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(kOrigin), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << "expected \"" << problem << "\" in: " << what;
  }
}

TEST(SafetensorsBadInput, FileShorterThanLengthPrefix) {
  expect_rejected("", "shorter than the 8-byte header length");
  expect_rejected("abcde", "5 bytes, shorter than the 8-byte header length");
}

TEST(SafetensorsBadInput, HeaderLengthPastEndOrAbsurd) {
  expect_rejected(u64_prefix(200) + "{}", "header length 200 runs past the end of the file (10 bytes");
  expect_rejected(u64_prefix(uint64_t{1} << 40) + "{}", "absurdly large");
  expect_rejected(u64_prefix(~uint64_t{0}) + "{}", "absurdly large");
  expect_rejected(u64_prefix(100'000'001) + "{}", "absurdly large");
}

TEST(SafetensorsBadInput, HeaderNotJsonOrNotObject) {
  expect_rejected(file_with("{not json"), "header is not valid JSON");
  expect_rejected(file_with(""), "header is not valid JSON");
  expect_rejected(file_with("{\"a\": \"\xff\xfe\"}"), "header is not valid JSON");  // not UTF-8
  expect_rejected(file_with("[1, 2]"), "header is not a JSON object");
  expect_rejected(file_with("\"str\""), "header is not a JSON object");
}

TEST(SafetensorsBadInput, EntryMissingFieldsOrWrongTypes) {
  expect_rejected(file_with(R"({"w": 3})"), "tensor \"w\": entry is not an object");
  expect_rejected(file_with(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", std::string(4, '\0')),
                  "tensor \"w\": missing field \"dtype\"");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", std::string(4, '\0')),
                  "tensor \"w\": missing field \"shape\"");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [1]}})", std::string(4, '\0')),
                  "tensor \"w\": missing field \"data_offsets\"");
  expect_rejected(file_with(R"({"w": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}})"),
                  "\"dtype\" is not a string");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}})"),
                  "\"shape\" is not an array");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})"),
                  "holds 1.5, not a non-negative integer");
}

TEST(SafetensorsBadInput, UnknownDtypeIsNamed) {
  expect_rejected(file_with(R"({"w": {"dtype": "Q4_K", "shape": [1], "data_offsets": [0, 1]}})", "x"),
                  "unsupported dtype \"Q4_K\"");
  // Valid in the format, but not one medtrain reads: still named.
  expect_rejected(file_with(R"({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}})", "x"),
                  "unsupported dtype \"F8_E4M3\"");
}

TEST(SafetensorsBadInput, NegativeOrOverflowingShape) {
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})"),
                  "\"shape\" holds a negative value -1");
  expect_rejected(
      file_with(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}})"),
      "overflows the element count");
  expect_rejected(
      file_with(R"({"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 4]}})"),
      "overflows the byte count");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 4]}})"),
                  "overflows");
}

TEST(SafetensorsBadInput, DataOffsetsMalformed) {
  const std::string four(4, '\0');
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", four),
                  "\"data_offsets\" is not [begin, end]");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": {"a": 1}}})", four),
                  "\"data_offsets\" is not [begin, end]");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, -4]}})", four),
                  "negative value -4");
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}})", four),
                  "data_offsets [4, 0] has begin > end");
}

TEST(SafetensorsBadInput, EndPastDataBuffer) {
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "1234"),
                  "tensor \"w\": data_offsets [0, 8] runs past the end of the data buffer (4 bytes");
  // A real file cut short.
  std::string good = safetensors_bytes({{"a", torch::ones({4})}});
  good.pop_back();
  expect_rejected(good, "runs past the end of the data buffer");
}

TEST(SafetensorsBadInput, ByteLengthDisagreesWithShape) {
  expect_rejected(file_with(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "1234"),
                  "holds 4 bytes but F32 [2] needs 8");
  expect_rejected(file_with(R"({"w": {"dtype": "BF16", "shape": [], "data_offsets": [0, 4]}})", "1234"),
                  "holds 4 bytes but BF16 [] needs 2");
}

TEST(SafetensorsBadInput, OverlapsGapsAndTrailingBytes) {
  const std::string twelve(12, '\0');
  expect_rejected(file_with(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                            twelve),
                  "tensor \"b\": bytes [4, 12) overlap tensor \"a\"");
  expect_rejected(file_with(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                            std::string(8, '\0')),
                  "overlap tensor \"a\"");
  expect_rejected(file_with(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                            twelve),
                  "tensor \"b\": gap of 4 bytes before its data at offset 8");
  expect_rejected(file_with(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                            std::string(8, '\0')),
                  "tensor \"a\": gap of 4 bytes");
  expect_rejected(file_with(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                            std::string(8, '\0')),
                  "4 trailing bytes after the last tensor");
}

TEST(SafetensorsBadInput, OutOfOrderButContiguousIsFine) {
  // The header's key order is free; only the tiling of the data matters.
  const std::string data = std::string("\x01\x02", 2) + std::string("\x03\x04\x05", 3);
  const auto f = parse_safetensors(
      file_with(R"({"late": {"dtype": "U8", "shape": [3], "data_offsets": [2, 5]},
                    "early": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
                    "none": {"dtype": "F32", "shape": [0], "data_offsets": [2, 2]}})",
                data),
      kOrigin);
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].first, "early");  // data-offset order
  EXPECT_EQ(f.tensors[1].first, "none");
  EXPECT_EQ(f.tensors[2].first, "late");
  EXPECT_EQ(f.tensors[2].second[2].item<uint8_t>(), 5);
}

TEST(SafetensorsBadInput, MetadataMustBeStrings) {
  expect_rejected(file_with(R"({"__metadata__": {"epochs": 3}})"),
                  "\"__metadata__\" value of \"epochs\" is not a string");
  expect_rejected(file_with(R"({"__metadata__": ["a"]})"), "\"__metadata__\" is not an object of strings");
}

TEST(SafetensorsBadInput, DuplicateNamesAndInvalidBools) {
  expect_rejected(file_with(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                                "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                            "ab"),
                  "header names \"w\" more than once");
  expect_rejected(file_with(R"({"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}})",
                            std::string("\x01\x00\x02", 3)),
                  "tensor \"m\": BOOL byte 2 at element 2 is neither 0 nor 1");
}

TEST(SafetensorsBadInput, LoadNamesThePath) {
  const medtrain::testing::TempDir temp("medtrain_st_bad");
  const fs::path& dir = temp.path();
  const fs::path missing = dir / "missing.safetensors";
  try {
    load_safetensors(missing);
    ADD_FAILURE() << "no error for a missing file";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open safetensors file " + missing.string()),
              std::string::npos)
        << e.what();
  }
  const fs::path junk = dir / "junk.safetensors";
  std::ofstream(junk, std::ios::binary) << "junk";
  try {
    load_safetensors(junk);
    ADD_FAILURE() << "no error for a junk file";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(junk.string() + ": file is 4 bytes"), std::string::npos) << e.what();
  }
}

// Every truncation and many random byte flips of a valid file: each parse either
// succeeds or throws ModelError; nothing else escapes and nothing crashes.
TEST(SafetensorsBadInput, TruncationsAndCorruptionsNeverCrash) {
  const std::string good = safetensors_bytes(
      {{"a", torch::randn({3, 2})}, {"b", torch::ones({5}, torch::kBool)}, {"c", torch::zeros({0})}},
      {{"k", "v"}});
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_THROW(parse_safetensors(good.substr(0, len), kOrigin), ModelError) << "length " << len;
  }
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string bad = good;
    const size_t pos = rng() % bad.size();
    bad[pos] = static_cast<char>(rng() & 0xff);
    try {
      parse_safetensors(bad, kOrigin);
    } catch (const ModelError&) {
    }
  }
}

}  // namespace

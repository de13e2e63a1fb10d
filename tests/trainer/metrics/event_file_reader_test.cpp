// read_event_file reads back what EventFileWriter writes, value for value,
// and refuses damaged files naming the file and the record's byte offset.
#include "trainer/metrics/event_file_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/crc32c.h"
#include "trainer/metrics/event_file_writer.h"
#include "trainer/metrics/png_codec.h"

namespace medtrain::metrics {
namespace {

using testing::TempDir;
using Kind = EventValue::Kind;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spill(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The byte offset at which each record starts, walking the framing on its own.
std::vector<size_t> record_offsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  for (size_t at = 0; at + 12 <= bytes.size();) {
    offsets.push_back(at);
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[at + i]);
    at += 16 + length;
  }
  return offsets;
}

std::string le(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

// A record with correct CRCs around any payload.
std::string record(const std::string& payload) {
  const std::string length = le(payload.size(), 8);
  return length + le(masked_crc32c(crc32c(length)), 4) + payload + le(masked_crc32c(crc32c(payload)), 4);
}

std::filesystem::path write_sample(const std::filesystem::path& dir, RasterImage& image, PrCurve& pr) {
  image = RasterImage(4, 3, 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 21);
  pr.num_thresholds = 3;
  for (int i = 0; i < 18; ++i) pr.data.push_back(0.25f * i - 1.0f);
  EventFileWriter writer(dir);
  writer.add_scalar("train/loss", 0.75, 1);
  writer.add_image("train/batch", image, 2);
  writer.add_text("val/examples", "| a | b |\n|---|---|\n| 1 | **2** |", 3);
  writer.add_pr_curve("val/pr/x", pr, 4);
  writer.add_scalar("train/loss", -2.5e-3, int64_t{1} << 40);
  return writer.path();
}

TEST(EventFileReader, ReadsBackWhatTheWriterWrote) {
  TempDir tmp;
  RasterImage image;
  PrCurve pr;
  const auto path = write_sample(tmp.path(), image, pr);
  const auto values = read_event_file(path);
  ASSERT_EQ(values.size(), 5u);

  EXPECT_EQ(values[0].kind, Kind::kScalar);
  EXPECT_EQ(values[0].tag, "train/loss");
  EXPECT_EQ(values[0].step, 1);
  EXPECT_EQ(values[0].scalar, 0.75);
  EXPECT_GT(values[0].wall_time, 1.7e9);  // seconds since 1970, in this decade or later
  EXPECT_EQ(values[4].step, int64_t{1} << 40);
  EXPECT_EQ(values[4].scalar, static_cast<double>(-2.5e-3f));  // simple_value is a float32

  EXPECT_EQ(values[1].kind, Kind::kImage);
  EXPECT_EQ(values[1].tag, "train/batch");
  EXPECT_EQ(values[1].step, 2);
  EXPECT_EQ(values[1].width, 4);
  EXPECT_EQ(values[1].height, 3);
  const RasterImage back = decode_png(values[1].png);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.pixels, image.pixels);

  EXPECT_EQ(values[2].kind, Kind::kText);
  EXPECT_EQ(values[2].plugin, "text");
  EXPECT_EQ(values[2].text, "| a | b |\n|---|---|\n| 1 | **2** |");
  EXPECT_TRUE(values[2].shape.empty());

  EXPECT_EQ(values[3].kind, Kind::kTensor);
  EXPECT_EQ(values[3].plugin, "pr_curves");
  EXPECT_EQ(values[3].shape, (std::vector<int64_t>{6, 3}));
  EXPECT_EQ(values[3].floats, pr.data);
}

TEST(EventFileReader, DirectoryReadsEventFilesInNameOrder) {
  TempDir tmp;
  EXPECT_TRUE(read_event_dir(tmp.path()).empty());
  EXPECT_TRUE(read_event_dir(tmp.path() / "absent").empty());
  RasterImage image;
  PrCurve pr;
  const auto first = write_sample(tmp.path(), image, pr);
  {
    EventFileWriter second(tmp.path());  // same second: a ".2" name that sorts after the first
    second.add_scalar("late", 9.0, 9);
  }
  tmp.write("notes.txt", "not an event file");
  tmp.write("sub/events.out.tfevents.0.x", "not read: in a subfolder");
  const auto values = read_event_dir(tmp.path());
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values.front().tag, "train/loss");
  EXPECT_EQ(values.back().tag, "late");
}

// A FIFO under an event file's name would block a plain open until a writer
// came: it is refused at once, named; a symbolic link to an event file is read.
TEST(EventFileReader, AFifoIsRefusedWithoutBlockingAndALinkIsFollowed) {
  TempDir tmp;
  RasterImage image;
  PrCurve pr;
  const auto real = write_sample(tmp.path() / "elsewhere", image, pr);
  std::filesystem::create_directories(tmp.path() / "tb");
  std::filesystem::create_symlink(real, tmp.path() / "tb" / "events.out.tfevents.1.link");
  EXPECT_EQ(read_event_dir(tmp.path() / "tb").size(), 5u);  // write_sample's values
  const auto fifo = tmp.path() / "tb" / "events.out.tfevents.2.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  testing::expect_throw_with<std::runtime_error>([&] { read_event_dir(tmp.path() / "tb"); },
                                                 "event file " + fifo.string() + ": a FIFO");
  std::filesystem::remove(fifo);
  std::filesystem::create_directory(fifo);
  testing::expect_throw_with<std::runtime_error>([&] { read_event_dir(tmp.path() / "tb"); },
                                                 "event file " + fifo.string() + ": a folder");
}

TEST(EventFileReader, DamagedFilesNameTheFileAndTheRecordOffset) {
  TempDir tmp;
  RasterImage image;
  PrCurve pr;
  const auto path = write_sample(tmp.path(), image, pr);
  const std::string good = slurp(path);
  const auto offsets = record_offsets(good);
  ASSERT_EQ(offsets.size(), 6u);  // file_version + 5 values
  const std::string file = path.string();
  const auto at = [&](size_t record) { return file + ": record at byte " + std::to_string(offsets[record]) + ": "; };

  spill(path, good.substr(0, good.size() - 3));  // the last record's payload CRC cut
  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(path); }, at(5) + "cut short");
  spill(path, good.substr(0, offsets[3] + 7));  // inside record 3's header
  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(path); },
                                                 at(3) + "cut short (7 bytes left, a record header needs 12)");
  // Asked to, the reader keeps what came before a cut-short tail and says where.
  std::string cut;
  EXPECT_EQ(read_event_file(path, &cut).size(), 2u);  // records 1 and 2: two values
  EXPECT_EQ(cut.rfind(at(3) + "cut short (7 bytes left", 0), 0u) << cut;
  spill(path, good.substr(0, good.size() - 3));
  cut.clear();
  EXPECT_EQ(read_event_file(path, &cut).size(), 4u);
  EXPECT_EQ(cut.rfind(at(5) + "cut short", 0), 0u) << cut;

  std::string flipped = good;
  flipped[offsets[2] + 40] = static_cast<char>(flipped[offsets[2] + 40] ^ 0x04);  // record 2's payload (the image)
  spill(path, flipped);
  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(path); }, at(2) + "payload CRC does not match");

  flipped = good;
  flipped[offsets[4] + 1] = static_cast<char>(flipped[offsets[4] + 1] ^ 0x01);  // record 4's length
  spill(path, flipped);
  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(path); }, at(4) + "length CRC does not match");

  // Framing and CRCs intact, but the payload is no protobuf: field 0.
  spill(path, good.substr(0, offsets[1]) + record(std::string("\x00\x01\x02", 3)));
  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(path); }, at(1) + "payload is not an Event");
  // A length-delimited field claiming more bytes than the payload holds.
  spill(path, good.substr(0, offsets[1]) + record("\x2a\x7f\x01"));
  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(path); }, "claims 127 bytes, 1 left");

  testing::expect_throw_with<std::runtime_error>([&] { read_event_file(tmp.path() / "absent"); },
                                                 (tmp.path() / "absent").string() + ": does not exist");
}

}  // namespace
}  // namespace medtrain::metrics

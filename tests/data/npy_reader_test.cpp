// read_npy_as_int64 against files written by NumPy itself (np.save, every
// dtype a mask arrives in), and every malformed file a clear DataError.
#include "data/npy_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "data/data_error.h"
#include "data/npy_writer.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::TempDir;

void numpy(const std::string& code) {
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " -c \"import numpy as np; " + code + "\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

void expect_error(const std::string& path, const std::string& part) {
  try {
    read_npy_as_int64(path);
    ADD_FAILURE() << "no error for " << path;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    // "<path>: ..." or, from the guarded open (data/io/user_file.h), ".npy file <path>: ..."
    EXPECT_TRUE(msg.rfind(path + ": ", 0) == 0 || msg.rfind(".npy file " + path + ": ", 0) == 0) << msg;
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(NpyReader, EveryDtypeNumpyWrites) {
  TempDir dir;
  for (const std::string dtype : {"uint8", "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float32",
                                  "float64"}) {
    const std::string path = dir.str(dtype + ".npy");
    // Values 0..5 (bool: 0/1) in a 2x3 array.
    numpy("a = (np.arange(6) % 2 if '" + dtype + "' == 'bool' else np.arange(6)).reshape(2, 3).astype('" + dtype +
          "'); np.save('" + path + "', a)");
    const auto t = read_npy_as_int64(path);
    ASSERT_EQ(t.sizes().vec(), (std::vector<int64_t>{2, 3})) << dtype;
    ASSERT_EQ(t.scalar_type(), torch::kInt64);
    for (int64_t i = 0; i < 6; ++i) {
      EXPECT_EQ(t.reshape({-1})[i].item<int64_t>(), dtype == "bool" ? i % 2 : i) << dtype << " element " << i;
    }
  }
  const std::string vol = dir.str("vol.npy");
  numpy("np.save('" + vol + "', np.full((4, 5, 6), -3, dtype=np.int16))");
  const auto t = read_npy_as_int64(vol);
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(t.min().item<int64_t>(), -3);
}

TEST(NpyReader, OurWriterRoundTrips) {
  TempDir dir;
  const std::vector<uint8_t> v{0, 1, 2, 255};
  write_npy_u8(dir.str("u8.npy"), v.data(), {2, 2});
  const auto t = read_npy_as_int64(dir.str("u8.npy"));
  EXPECT_EQ(t.reshape({-1})[3].item<int64_t>(), 255);
  numpy("a = np.load('" + dir.str("u8.npy") + "'); assert a.dtype == np.uint8 and a.shape == (2, 2) and a[1, 1] == 255");
}

TEST(NpyReader, BadFilesNameTheProblem) {
  TempDir dir;
  testing::write_text(dir.path() / "text.npy", "hello");
  expect_error(dir.str("text.npy"), "not a .npy file");
  numpy("np.save('" + dir.str("f.npy") + "', np.asfortranarray(np.zeros((3, 2), np.uint8)))");
  expect_error(dir.str("f.npy"), "Fortran order");
  numpy("np.save('" + dir.str("half.npy") + "', np.array([0.0, 0.5], np.float32))");
  expect_error(dir.str("half.npy"), "0.500000 at element 1 is not a whole number");
  numpy("np.save('" + dir.str("c.npy") + "', np.zeros(3, np.complex64))");
  expect_error(dir.str("c.npy"), "dtype '<c8' is not supported");
  numpy("np.save('" + dir.str("be.npy") + "', np.zeros(3, '>i2'))");
  expect_error(dir.str("be.npy"), "dtype '>i2' is not supported");
  numpy("np.save('" + dir.str("big.npy") + "', np.zeros((64, 64), np.int32))");
  std::filesystem::resize_file(dir.path() / "big.npy", 200);
  expect_error(dir.str("big.npy"), "data is truncated: shape needs 16384 bytes");
  std::string header = npy_header("|u1", {4});
  header[8] = '\xff';  // header length far past the end of the file
  header[9] = '\x7f';
  testing::write_text(dir.path() / "long.npy", header);
  expect_error(dir.str("long.npy"), "header runs past the end");
  expect_error(dir.str("missing.npy"), "does not exist");
}

}  // namespace
}  // namespace medtrain::data

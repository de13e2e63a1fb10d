// write_npy_f32 (used by `medtrain inspect --npy`): the header follows the NPY
// 1.0 format, and NumPy itself (numpy.load, the independent reader) reads the
// values and shape back for 1-D, 3-D and 4-D arrays.
#include "data/npy_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "data/data_error.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

TEST(NpyWriter, HeaderFollowsTheFormat) {
  for (const auto& shape : std::vector<std::vector<int64_t>>{{7}, {2, 3, 4}, {1, 2, 2, 3}}) {
    const std::string h = npy_header_f32(shape);
    EXPECT_EQ(h.substr(0, 6), std::string("\x93NUMPY", 6));
    EXPECT_EQ(h[6], 1);
    EXPECT_EQ(h[7], 0);
    const size_t len = static_cast<unsigned char>(h[8]) | (static_cast<unsigned char>(h[9]) << 8);
    EXPECT_EQ(len + 10, h.size());
    EXPECT_EQ(h.size() % 64, 0u);
    EXPECT_EQ(h.back(), '\n');
    EXPECT_NE(h.find("'descr': '<f4'"), std::string::npos);
    EXPECT_NE(h.find("'fortran_order': False"), std::string::npos);
  }
  EXPECT_NE(npy_header_f32({7}).find("'shape': (7,)"), std::string::npos);
  EXPECT_NE(npy_header_f32({2, 3, 4}).find("'shape': (2, 3, 4)"), std::string::npos);
}

TEST(NpyWriter, NumpyReadsItBack) {
  testing::TempDir dir;
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f - 3.25f;
  write_npy_f32(dir.str("a.npy"), v.data(), {2, 3, 4});
  write_npy_f32(dir.str("b.npy"), v.data(), {1, 2, 4, 3});
  write_npy_f32(dir.str("c.npy"), v.data(), {24});
  const std::string code =
      "import numpy as np, sys; d = sys.argv[1]; want = np.arange(24, dtype=np.float32) * 0.5 - 3.25\n"
      "for n, s in (('a', (2, 3, 4)), ('b', (1, 2, 4, 3)), ('c', (24,))):\n"
      "    x = np.load(d + '/' + n + '.npy')\n"
      "    assert x.dtype == np.float32 and x.shape == s, (n, x.dtype, x.shape)\n"
      "    assert (x.ravel() == want).all(), n\n"
      "print('ok')\n";
  std::ofstream(dir.path() / "check.py") << code;
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + dir.str("check.py") + " " + dir.str("") + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096] = {};
  const size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << std::string(buf, n);
  EXPECT_EQ(std::string(buf, n), "ok\n");
}

TEST(NpyWriter, UnwritablePathIsNamed) {
  const float x = 1;
  try {
    write_npy_f32("/nonexistent/medtrain/x.npy", &x, {1});
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/medtrain/x.npy"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data

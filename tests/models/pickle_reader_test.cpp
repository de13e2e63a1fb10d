// The restricted pickle reader behind .pth loading: Python's own pickle module
// writes the input (protocols 2 and 4, OrderedDict with attributes, memo
// references), and malformed or hostile input is a ModelError, never a crash
// and never code execution.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "models/model_error.h"
#include "models/pretrained/pickle_reader.h"
#include "tests/common/temp_dir.h"

namespace fs = std::filesystem;
using medtrain::models::ModelError;
using medtrain::models::pretrained::PickleRef;
using medtrain::models::pretrained::PickleValue;
using medtrain::models::pretrained::read_pickle;
using Kind = PickleValue::Kind;

namespace {

PickleRef parse(const std::string& bytes) { return read_pickle(bytes.data(), bytes.size(), {}, "test.pkl"); }

std::string python_pickle(const medtrain::testing::TempDir& dir, int protocol) {
  const fs::path out = dir.path() / ("p" + std::to_string(protocol) + ".pkl");
  const std::string code =
      "import collections, pickle, sys\n"
      "shared = [1.5, 'x', (True, None)]\n"
      "d = collections.OrderedDict(a=-7, b=shared, c=shared, big=2**40, neg=-2**40, u='\\u00e9')\n"
      "d._metadata = {'': {'version': 1}}\n"  // as Module.state_dict() sets
      "open(sys.argv[1], 'wb').write(pickle.dumps({'sd': d, 't': (1, 2, 3), 'by': b'ab'}, protocol=" +
      std::to_string(protocol) + "))\n";
  const fs::path script = dir.write("make.py", code);
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + script.string() + " " + out.string();
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("python failed: " + cmd);
  std::ifstream in(out, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const PickleRef& get(const PickleRef& dict, const std::string& key) {
  for (const auto& [k, v] : dict->entries) {
    if (k->kind == Kind::kString && k->text == key) return v;
  }
  throw std::runtime_error("no key " + key);
}

void expect_error(const std::string& bytes, const std::string& problem) {
  try {
    parse(bytes);
    ADD_FAILURE() << "accepted; expected: " << problem;
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("test.pkl: pickle byte "), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << "expected \"" << problem << "\" in: " << what;
  }
}

TEST(PickleReader, ReadsWhatPythonWrites) {
  const medtrain::testing::TempDir dir("medtrain_pickle");
  for (int protocol : {2, 4}) {
    const std::string bytes = python_pickle(dir, protocol);
    const PickleRef root = parse(bytes);
    ASSERT_EQ(root->kind, Kind::kDict) << protocol;
    const PickleRef& sd = get(root, "sd");
    ASSERT_EQ(sd->kind, Kind::kDict);
    ASSERT_EQ(sd->entries.size(), 6u);  // _metadata is an attribute, not an entry
    EXPECT_EQ(get(sd, "a")->integer, -7);
    EXPECT_EQ(get(sd, "big")->integer, int64_t{1} << 40);
    EXPECT_EQ(get(sd, "neg")->integer, -(int64_t{1} << 40));
    EXPECT_EQ(get(sd, "u")->text, "\xc3\xa9");
    const PickleRef& b = get(sd, "b");
    ASSERT_EQ(b->kind, Kind::kList);
    EXPECT_EQ(b.get(), get(sd, "c").get());  // one object, referenced twice (memo)
    EXPECT_DOUBLE_EQ(b->items[0]->real, 1.5);
    EXPECT_EQ(b->items[1]->text, "x");
    EXPECT_EQ(b->items[2]->items[0]->kind, Kind::kBool);
    EXPECT_EQ(b->items[2]->items[1]->kind, Kind::kNone);
    EXPECT_EQ(get(root, "t")->items.size(), 3u);
    // Protocol 2 has no bytes opcode: Python writes _codecs.encode(...), which stays a name.
    EXPECT_EQ(get(root, "by")->kind, protocol >= 3 ? Kind::kBytes : Kind::kOpaque);
    // Every truncation fails cleanly.
    for (size_t n = 0; n < bytes.size(); ++n) EXPECT_THROW(parse(bytes.substr(0, n)), ModelError) << n;
  }
}

TEST(PickleReader, MalformedInputIsNamed) {
  expect_error("", "truncated");
  expect_error("\x80\x02.", "stack underflow");
  expect_error("\x80\x02h\x07.", "memo index 7 was never stored");
  expect_error(std::string("\x80\x02\xff", 3), "unsupported pickle opcode 0xff");
  expect_error("\x80\x02(.", "stack underflow");  // STOP may not pop past a MARK
  expect_error(std::string("\x80\x02X\xff\xff\x00\x00" "ab.", 10), "truncated: needs 65535 more bytes");
  expect_error("\x80\x02K\x01s.", "stack underflow");
  expect_error("\x80\x02]K\x01K\x02s.", "SETITEM on a non-dict");
}

TEST(PickleReader, GlobalsAreNamesNeverCalls) {
  const medtrain::testing::TempDir dir("medtrain_pickle_evil");
  const fs::path marker = dir.path() / "pwned";
  // os.system("touch <marker>") as pickle protocol 2 would write it.
  const std::string arg = "touch " + marker.string();
  std::string bytes = "\x80\x02" "cos\nsystem\n" "X";
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((arg.size() >> (8 * i)) & 0xff));
  bytes += arg + "\x85R.";
  const PickleRef v = parse(bytes);
  EXPECT_EQ(v->kind, Kind::kOpaque);
  EXPECT_EQ(v->text, "result of os.system(...)");
  EXPECT_FALSE(fs::exists(marker));
}

}  // namespace

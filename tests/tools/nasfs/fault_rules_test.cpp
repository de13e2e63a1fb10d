// The fault rules of nasfs: the parser (good files, and each bad line named),
// the matcher's after=/count=/prob=/for= and OP/GLOB semantics, and the
// control file's reload, malformed-file and log behaviour. No FUSE needed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/nasfs/fault_control.h"
#include "tests/tools/nasfs/fault_rules.h"
#include "tests/tools/nasfs/fault_table.h"

namespace nasfs {
namespace {

using Clock = FaultTable::Clock;

std::string error_of(const std::string& text, int* line) {
  try {
    parse_fault_rules(text);
  } catch (const FaultRuleError& e) {
    *line = e.line();
    return e.what();
  }
  return "";
}

TEST(FaultRules, ParsesEveryField) {
  const auto rules = parse_fault_rules(
      "# a comment line\n"
      "\n"
      "read train/*.dcm eio after=2 count=3 prob=0.5 for=1.5  # trailing comment\n"
      "  any * hang=0.25\n"
      "write ckpt/* enospc\n"
      "getattr x estale\n"
      "read * short count=1\n");
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].op, FaultOp::kRead);
  EXPECT_EQ(rules[0].glob, "train/*.dcm");
  EXPECT_EQ(rules[0].kind, FaultKind::kEio);
  EXPECT_EQ(rules[0].after, 2);
  EXPECT_EQ(rules[0].count, 3);
  EXPECT_DOUBLE_EQ(rules[0].prob, 0.5);
  EXPECT_DOUBLE_EQ(rules[0].for_s, 1.5);
  EXPECT_EQ(rules[0].line, 3);
  EXPECT_EQ(rules[1].op, FaultOp::kAny);
  EXPECT_EQ(rules[1].kind, FaultKind::kHang);
  EXPECT_DOUBLE_EQ(rules[1].hang_s, 0.25);
  EXPECT_EQ(rules[1].fault, "hang=0.25");
  EXPECT_EQ(rules[1].count, -1);  // defaults: unlimited, always, certain
  EXPECT_DOUBLE_EQ(rules[1].for_s, -1);
  EXPECT_DOUBLE_EQ(rules[1].prob, 1);
  EXPECT_EQ(rules[2].kind, FaultKind::kEnospc);
  EXPECT_EQ(rules[3].kind, FaultKind::kEstale);
  EXPECT_EQ(rules[4].kind, FaultKind::kShort);
  EXPECT_TRUE(parse_fault_rules("").empty());
  EXPECT_TRUE(parse_fault_rules("# nothing\n   \n").empty());
}

TEST(FaultRules, NamesTheBadLineAndWhy) {
  struct Case {
    std::string text;
    int line;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"read * eio\nsend * eio\n", 2, "unknown OP 'send'"},
      {"read * eio\nread *\n", 2, "too few fields"},
      {"read * boom\n", 1, "unknown FAULT 'boom'"},
      {"read * hang=\n", 1, "hang= expects a number"},
      {"read * hang=-1\n", 1, "hang= expects seconds > 0"},
      {"read * hang=1s\n", 1, "hang= expects a number, got '1s'"},
      {"read * eio after=-1\n", 1, "after= expects a whole number"},
      {"read * eio count=0\n", 1, "count= must be >= 1"},
      {"read * eio count=2.5\n", 1, "count= expects a whole number"},
      {"read * eio prob=1.5\n", 1, "prob= must be in [0, 1]"},
      {"read * eio for=0\n", 1, "for= expects seconds > 0"},
      {"read * eio times=3\n", 1, "unknown option 'times='"},
      {"read * eio count\n", 1, "expected KEY=VALUE"},
      {"read * eio count=1 count=2\n", 1, "count= given twice"},
      {"open * short\n", 1, "short applies to reads only"},
      {"read /train/x eio\n", 1, "drop the leading '/'"},
  };
  for (const auto& c : cases) {
    int line = 0;
    const std::string msg = error_of(c.text, &line);
    EXPECT_NE(msg.find(c.needle), std::string::npos) << c.text << " -> " << msg;
    EXPECT_EQ(line, c.line) << c.text;
  }
}

std::vector<FaultRule> rules(const std::string& text) { return parse_fault_rules(text); }

// How many of n requests (op, path) the table hits, and which (0-based).
std::vector<int> hits(FaultTable& t, int n, FaultOp op, const std::string& path, Clock::time_point now) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    if (t.match(op, path, now)) out.push_back(i);
  }
  return out;
}

TEST(FaultTable, AfterThenCountThenSpent) {
  FaultTable t(1);
  const auto now = Clock::now();
  t.load(rules("read a.bin eio after=2 count=3\n"), now);
  EXPECT_EQ(hits(t, 8, FaultOp::kRead, "a.bin", now), (std::vector<int>{2, 3, 4}));
  // Reloading starts the counters again.
  t.load(rules("read a.bin eio after=1 count=1\n"), now);
  EXPECT_EQ(hits(t, 4, FaultOp::kRead, "a.bin", now), (std::vector<int>{1}));
}

TEST(FaultTable, MatchesOpAndGlobOnly) {
  FaultTable t(1);
  const auto now = Clock::now();
  t.load(rules("read train/*.dcm estale\nwrite ckpt/* enospc\n"), now);
  EXPECT_TRUE(t.match(FaultOp::kRead, "train/p1/x.dcm", now));  // no FNM_PATHNAME: * crosses '/'
  EXPECT_FALSE(t.match(FaultOp::kOpen, "train/x.dcm", now));
  EXPECT_FALSE(t.match(FaultOp::kRead, "train/x.txt", now));
  EXPECT_FALSE(t.match(FaultOp::kRead, "val/train/x.dcm", now));
  const auto w = t.match(FaultOp::kWrite, "ckpt/step_10/model.pt", now);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->kind, FaultKind::kEnospc);
  EXPECT_EQ(w->fault, "enospc");
  EXPECT_FALSE(t.match(FaultOp::kCreate, "ckpt/x", now));
}

TEST(FaultTable, AnyMatchesEveryOpButShortOnlyReads) {
  FaultTable t(1);
  const auto now = Clock::now();
  t.load(rules("any * short\nany x eio\n"), now);
  const auto r = t.match(FaultOp::kRead, "x", now);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, FaultKind::kShort);
  for (FaultOp op : {FaultOp::kOpen, FaultOp::kGetattr, FaultOp::kWrite, FaultOp::kRename, FaultOp::kOther}) {
    const auto h = t.match(op, "x", now);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->kind, FaultKind::kEio);
  }
}

TEST(FaultTable, FirstEligibleRuleWinsButEveryMatchingRuleCounts) {
  FaultTable t(1);
  const auto now = Clock::now();
  t.load(rules("read x eio count=1\nread x estale after=1 count=1\n"), now);
  EXPECT_EQ(t.match(FaultOp::kRead, "x", now)->kind, FaultKind::kEio);
  // The second rule saw request 0 too, so request 1 is past its after=1.
  EXPECT_EQ(t.match(FaultOp::kRead, "x", now)->kind, FaultKind::kEstale);
  EXPECT_FALSE(t.match(FaultOp::kRead, "x", now));
}

TEST(FaultTable, ForWindowEndsTheRule) {
  FaultTable t(1);
  const auto t0 = Clock::now();
  t.load(rules("read * eio for=2\n"), t0);
  EXPECT_TRUE(t.match(FaultOp::kRead, "a", t0 + std::chrono::milliseconds(1999)));
  EXPECT_FALSE(t.match(FaultOp::kRead, "a", t0 + std::chrono::seconds(2)));
}

TEST(FaultTable, ProbIsDeterministicPerSeedAndRoughlyRight) {
  const auto now = Clock::now();
  auto draw = [&](uint64_t seed) {
    FaultTable t(seed);
    t.load(rules("read * eio prob=0.3\n"), now);
    return hits(t, 2000, FaultOp::kRead, "a", now);
  };
  const auto a = draw(7), b = draw(7), c = draw(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(a.size(), 500u);  // 600 expected; binomial sd ~20
  EXPECT_LT(a.size(), 700u);
  FaultTable never(1), always(1);
  never.load(rules("read * eio prob=0\n"), now);
  always.load(rules("read * eio prob=1\n"), now);
  EXPECT_TRUE(hits(never, 100, FaultOp::kRead, "a", now).empty());
  EXPECT_EQ(hits(always, 100, FaultOp::kRead, "a", now).size(), 100u);
}

class FaultControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nasfs_fault_rules_testXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  // Replaced atomically, as tests are told to: write FILE.tmp, rename.
  void write_rules(const std::string& text) {
    std::ofstream(control() + ".tmp") << text;
    ASSERT_EQ(std::rename((control() + ".tmp").c_str(), control().c_str()), 0);
  }
  std::string control() const { return dir_ + "/faults"; }
  std::string log_path() const { return dir_ + "/faults.log"; }
  std::string read_log() const {
    std::ifstream in(log_path());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_;
};

TEST_F(FaultControlTest, MissingFileIsNoFaultsAndAChangeIsSeenAtTheNextRequest) {
  FaultControl fc(control(), 1, log_path());
  EXPECT_FALSE(fc.check(FaultOp::kRead, "read", "/a.bin"));
  write_rules("read a.bin eio count=1\n");
  EXPECT_TRUE(fc.check(FaultOp::kRead, "read", "/a.bin"));
  EXPECT_FALSE(fc.check(FaultOp::kRead, "read", "/a.bin"));  // spent
  write_rules("read a.bin estale count=1\n");                 // a new file: counters anew
  EXPECT_EQ(fc.check(FaultOp::kRead, "read", "/a.bin")->kind, FaultKind::kEstale);
  write_rules("");
  EXPECT_FALSE(fc.check(FaultOp::kRead, "read", "/a.bin"));
}

TEST_F(FaultControlTest, LogsEachInjectionWithOpPathAndFault) {
  FaultControl fc(control(), 1, log_path());
  write_rules("any sub/* hang=0.001\n");
  EXPECT_TRUE(fc.check(FaultOp::kOther, "unlink", "/sub/x.bin"));
  EXPECT_FALSE(fc.check(FaultOp::kOther, "unlink", "/other"));
  std::istringstream log(read_log());
  long long ms = 0;
  std::string op, path, fault, extra;
  ASSERT_TRUE(log >> ms >> op >> path >> fault);
  EXPECT_GT(ms, 1'600'000'000'000LL);  // unix time in milliseconds
  EXPECT_EQ(op, "unlink");
  EXPECT_EQ(path, "sub/x.bin");
  EXPECT_EQ(fault, "hang=0.001");
  EXPECT_FALSE(log >> extra);  // one line only
}

TEST_F(FaultControlTest, MalformedFileIsReportedOnceAndAppliesNoRule) {
  FaultControl fc(control(), 1, log_path());
  write_rules("read a.bin eio\nread b.bin eio prob=2\n");
  testing::internal::CaptureStderr();
  EXPECT_FALSE(fc.check(FaultOp::kRead, "read", "/a.bin"));  // line 1 is fine, but not applied
  EXPECT_FALSE(fc.check(FaultOp::kRead, "read", "/a.bin"));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "nasfs: faults " + control() + " line 2: prob= must be in [0, 1], got '2'\n");
  EXPECT_EQ(read_log(), "");
  write_rules("read a.bin eio\n");  // fixed: applies at the next request
  EXPECT_TRUE(fc.check(FaultOp::kRead, "read", "/a.bin"));
}

}  // namespace
}  // namespace nasfs

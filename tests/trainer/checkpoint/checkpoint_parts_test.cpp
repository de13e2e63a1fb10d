// The pieces under checkpoints: SHA-256, durable writes and symlink swaps,
// trainer_state.json.
#include <nlohmann/json.hpp>

#include <functional>

#include "tests/trainer/checkpoint/checkpoint_test_util.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/checkpoint_dir.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/checkpoint/trainer_state_json.h"

namespace medtrain::checkpoint::testing {
namespace {

// Test vectors published with the standard (FIPS 180-2, appendix B; NIST CAVP).
TEST(Sha256, StandardTestVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

using AtomicFile = CkptDirTest;

TEST_F(AtomicFile, WriteReadAndReplace) {
  const fs::path p = root_ / "f.bin";
  const std::string bytes("a\0b\xff", 4);
  write_file_atomic(p, bytes);
  EXPECT_EQ(read_file(p), bytes);
  write_file_atomic(p, "second");
  EXPECT_EQ(read_file(p), "second");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"f.bin"});  // no temporary left
}

TEST_F(AtomicFile, ErrorsNameThePath) {
  expect_checkpoint_error([&] { read_file(root_ / "absent"); }, {"cannot open", (root_ / "absent").string()});
  expect_checkpoint_error([&] { write_file_synced(root_ / "no/such/dir/f", "x"); },
                          {"cannot create", (root_ / "no/such/dir/f").string()});
  expect_checkpoint_error([&] { fsync_directory(root_ / "absent"); }, {(root_ / "absent").string()});
}

TEST_F(AtomicFile, ReplaceSymlinkSwapsTheTarget) {
  fs::create_directories(root_ / "a");
  fs::create_directories(root_ / "b");
  replace_symlink(root_ / "link", "a");
  EXPECT_EQ(fs::read_symlink(root_ / "link"), fs::path("a"));
  replace_symlink(root_ / "link", "b");
  EXPECT_EQ(fs::read_symlink(root_ / "link"), fs::path("b"));
  EXPECT_EQ(read_pointer(root_, "link"), std::optional<std::string>("b"));
  EXPECT_EQ(read_pointer(root_, "absent"), std::nullopt);
}

TEST_F(AtomicFile, PruningRemovesLinksNotTheirTargets) {
  fs::create_directories(root_ / "keep");
  write(root_ / "keep/precious", "data");
  fs::create_directories(root_ / "tree/a/b");
  write(root_ / "tree/a/b/f", "x");
  fs::create_directory_symlink(root_ / "keep", root_ / "tree/a/link");
  std::error_code ec;
  std::filesystem::remove_all(root_ / "tree", ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(root_ / "tree"));
  EXPECT_EQ(read(root_ / "keep/precious"), "data");
  std::filesystem::remove_all(root_ / "tree", ec);  // already gone: fine
  EXPECT_FALSE(ec) << ec.message();
}

TEST(CheckpointDir, StepNames) {
  EXPECT_EQ(step_dir_name(0), "step-00000000");
  EXPECT_EQ(step_dir_name(120), "step-00000120");
  EXPECT_EQ(step_dir_name(123456789), "step-123456789");
  EXPECT_EQ(parse_step_dir_name("step-00000120"), 120);
  EXPECT_EQ(parse_step_dir_name("step-123456789"), 123456789);
  EXPECT_EQ(parse_step_dir_name("step-"), std::nullopt);
  EXPECT_EQ(parse_step_dir_name("step-12a"), std::nullopt);
  EXPECT_EQ(parse_step_dir_name(".tmp-step-00000001-5"), std::nullopt);
  EXPECT_EQ(parse_step_dir_name("latest"), std::nullopt);
}

TEST(TrainerStateJson, RoundTripsSpecialDoublesExactly) {
  TrainerState s = make_checkpoint(5).state;
  s.best_metric = -std::numeric_limits<double>::infinity();
  s.loss_scale = std::nextafter(1.0, 2.0);
  s.samples_seen = std::numeric_limits<int64_t>::max();
  std::string hash;
  const TrainerState back = parse_trainer_state(trainer_state_json(s, "h"), "t.json", &hash);
  EXPECT_EQ(hash, "h");
  EXPECT_TRUE(same_bits(back.loss_scale, s.loss_scale));
  EXPECT_TRUE(same_bits(*back.best_metric, *s.best_metric));
  EXPECT_EQ(back.samples_seen, s.samples_seen);
  EXPECT_TRUE(std::isnan(back.last_eval.at("val/loss")));
  EXPECT_TRUE(same_bits(back.last_eval.at("val/auroc"), 0.1 + 0.2));
}

TEST(TrainerStateJson, BadContentNamesTheKey) {
  const auto good = nlohmann::json::parse(trainer_state_json(make_checkpoint(5).state, "h"));
  const auto check = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& part) {
    auto j = good;
    edit(j);
    expect_checkpoint_error([&] { parse_trainer_state(j.dump(), "ckpt/step-5: trainer_state.json", nullptr); },
                            {"ckpt/step-5: trainer_state.json", part});
  };
  check([](auto& j) { j.erase("epoch"); }, "key \"epoch\" is missing");
  check([](auto& j) { j["world_size"] = 0; }, "key \"world_size\" is out of range");
  check([](auto& j) { j["global_batch"] = 0; }, "key \"global_batch\" must be at least 1");
  check([](auto& j) { j.erase("grad_accum_steps"); }, "key \"grad_accum_steps\" is missing");
  check([](auto& j) { j["loss_scale"] = "big"; }, "key \"loss_scale\" is not a number");
  check([](auto& j) { j["last_eval"]["val/auroc"] = true; }, "key \"last_eval.val/auroc\" is not a number");
  check([](auto& j) { j["format"] = "x"; }, "key \"format\" is \"x\"");
  check([](auto& j) { j["step"] = 1.5; }, "key \"step\" is not an integer");
  expect_checkpoint_error([] { parse_trainer_state("{\"step\": ", "s.json", nullptr); }, {"s.json: not valid JSON"});
}

}  // namespace
}  // namespace medtrain::checkpoint::testing

// A checkpoint that changed after it was written is refused, naming the
// directory and the file: corrupted bytes, truncation, missing files, a damaged
// manifest, hand edits.
#include <nlohmann/json.hpp>

#include <functional>

#include "tests/trainer/checkpoint/checkpoint_test_util.h"
#include "trainer/checkpoint/sha256.h"

namespace medtrain::checkpoint::testing {
namespace {

class CheckpointVerify : public CkptDirTest {
 protected:
  void SetUp() override {
    CkptDirTest::SetUp();
    dir_ = CheckpointManager(ckpt_, {}).save(make_checkpoint(10), 0.5);
  }
  // Rewrites manifest.json so that `file` (changed by hand) matches it again.
  void reseal(const std::string& file) {
    auto m = nlohmann::json::parse(read(dir_ / "manifest.json"));
    const std::string bytes = read(dir_ / file);
    m["files"][file] = {{"sha256", sha256_hex(bytes)}, {"size", bytes.size()}};
    write(dir_ / "manifest.json", m.dump());
  }
  fs::path dir_;
};

const char* const kFiles[] = {"model.safetensors", "optimizer.safetensors", "rng.safetensors",
                              "trainer_state.json", "config.yaml"};

TEST_F(CheckpointVerify, OneFlippedByteInAnyFileIsRefused) {
  for (const char* file : kFiles) {
    SCOPED_TRACE(file);
    const std::string good = read(dir_ / file);
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x01;
    write(dir_ / file, bad);
    const std::vector<std::string> parts = {"checkpoint " + dir_.string(),
                                            std::string(file) + " fails its SHA-256 check", "refusing to load"};
    for (const fs::path& path : {dir_, ckpt_ / "latest", ckpt_}) {
      expect_checkpoint_error([&] { load_checkpoint(path); }, {parts[0], parts[1], parts[2]});
    }
    expect_checkpoint_error([&] { verify_checkpoint(dir_); }, {parts[0], parts[1]});
    write(dir_ / file, good);
  }
  EXPECT_NO_THROW(verify_checkpoint(dir_));
  EXPECT_NO_THROW(load_checkpoint(dir_));
}

TEST_F(CheckpointVerify, TruncatedFileIsRefusedWithSizes) {
  const std::string good = read(dir_ / "optimizer.safetensors");
  write(dir_ / "optimizer.safetensors", good.substr(0, good.size() - 1));
  expect_checkpoint_error([&] { load_checkpoint(dir_); },
                          {dir_.string(), "optimizer.safetensors is " + std::to_string(good.size() - 1) +
                                              " bytes but the manifest says " + std::to_string(good.size())});
}

TEST_F(CheckpointVerify, MissingFileIsRefused) {
  for (const char* file : kFiles) {
    SCOPED_TRACE(file);
    const std::string good = read(dir_ / file);
    fs::remove(dir_ / file);
    expect_checkpoint_error([&] { load_checkpoint(dir_); }, {dir_.string(), std::string(file) + " is missing"});
    write(dir_ / file, good);
  }
}

TEST_F(CheckpointVerify, NoManifestIsNotACheckpoint) {
  fs::remove(dir_ / "manifest.json");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {dir_.string(), "not a medtrain checkpoint"});
  expect_checkpoint_error([&] { load_checkpoint(root_); }, {root_.string(), "not a medtrain checkpoint"});
}

TEST_F(CheckpointVerify, TruncatedOrMalformedManifestIsRefused) {
  const std::string good = read(dir_ / "manifest.json");
  write(dir_ / "manifest.json", good.substr(0, good.size() / 2));
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {dir_.string(), "manifest.json is not valid JSON"});
  write(dir_ / "manifest.json", "");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"manifest.json is not valid JSON"});

  auto m = nlohmann::json::parse(good);
  auto edit = [&](const std::function<void(nlohmann::json&)>& f) {
    auto copy = m;
    f(copy);
    write(dir_ / "manifest.json", copy.dump());
  };
  edit([](auto& j) { j["files"].erase("model.safetensors"); });
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"manifest.json does not list model.safetensors"});
  edit([](auto& j) { j["format"] = "medtrain-checkpoint/99"; });
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"medtrain-checkpoint/99", "is not \"medtrain-checkpoint/1\""});
  edit([](auto& j) { j["files"]["../../etc/passwd"] = j["files"]["config.yaml"]; });
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"\"../../etc/passwd\" is not a plain file name"});
  edit([](auto& j) { j["files"]["config.yaml"]["size"] = -3; });
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"entry \"config.yaml\" is not"});
  edit([](auto& j) { j["files"]["config.yaml"]["sha256"] = "abc"; });
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"entry \"config.yaml\" is not"});
  edit([](auto& j) { j.erase("files"); });
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"lacks \"format\" or \"files\""});
}

TEST_F(CheckpointVerify, ExtraListedFileMustBeIntactToo) {
  write(dir_ / "notes.txt", "hello");
  reseal("notes.txt");
  EXPECT_NO_THROW(load_checkpoint(dir_));
  write(dir_ / "notes.txt", "hellO");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"notes.txt fails its SHA-256 check"});
}

// Hand edits that keep the manifest consistent are still caught by the
// cross-checks and the strict parsers.
TEST_F(CheckpointVerify, HandEditedFilesWithAResealedManifest) {
  write(dir_ / "config.yaml", "run:\n  name: other\n");
  reseal("config.yaml");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"config.yaml does not match the config_sha256"});

  auto state = nlohmann::json::parse(read(dir_ / "trainer_state.json"));
  state.erase("step");
  write(dir_ / "trainer_state.json", state.dump());
  reseal("trainer_state.json");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"trainer_state.json: key \"step\" is missing"});
  state["step"] = "ten";
  write(dir_ / "trainer_state.json", state.dump());
  reseal("trainer_state.json");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {"key \"step\" is not an integer"});

  write(dir_ / "model.safetensors", "not safetensors");
  reseal("model.safetensors");
  expect_checkpoint_error([&] { load_checkpoint(dir_); }, {dir_.string(), "model.safetensors", "header length"});
}

TEST_F(CheckpointVerify, DanglingPointersAndNonDirectories) {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  expect_checkpoint_error([&] { load_checkpoint(ckpt_ / "latest"); },
                          {(ckpt_ / "latest").string(), "points to step-00000010, which does not exist"});
  expect_checkpoint_error([&] { load_checkpoint(ckpt_); }, {"points to step-00000010, which does not exist"});
  expect_checkpoint_error([&] { load_checkpoint(root_ / "nowhere"); }, {"nowhere", "no such file or directory"});
  write(root_ / "file.bin", "x");
  expect_checkpoint_error([&] { load_checkpoint(root_ / "file.bin"); }, {"file.bin", "not a directory"});
  fs::create_directory_symlink("loop", ckpt_ / "loop");
  expect_checkpoint_error([&] { load_checkpoint(ckpt_ / "loop"); }, {"too many levels of symbolic links"});
}

TEST_F(CheckpointVerify, FolderWithStepsButNoLatestSaysWhatToDo) {
  fs::remove(ckpt_ / "latest");
  expect_checkpoint_error([&] { load_checkpoint(ckpt_); }, {"no `latest`: name one of them"});
  EXPECT_NO_THROW(load_checkpoint(dir_));
}

}  // namespace
}  // namespace medtrain::checkpoint::testing

#include "data/audio/speech_synthesis.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/io/user_file.h"

extern char** environ;

namespace medtrain::data::audio {
namespace {

constexpr size_t kMaxStderr = 64 * 1024;  // enough for any message; a runaway child cannot fill memory
constexpr off_t kWavHeader = 44;          // RIFF + fmt + data chunk headers, no samples

std::string first_line(const std::string& s) {
  const size_t start = s.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  return s.substr(start, s.find_first_of("\r\n", start) - start);
}

// Owns the descriptors and file actions of one spawn, so every error path closes them.
struct SpawnResources {
  int pipe_fd[2] = {-1, -1};
  int null_fd = -1;
  posix_spawn_file_actions_t actions{};
  bool actions_ready = false;
  ~SpawnResources() {
    for (int fd : {pipe_fd[0], pipe_fd[1], null_fd}) {
      if (fd >= 0) ::close(fd);
    }
    if (actions_ready) posix_spawn_file_actions_destroy(&actions);
  }
};

void check_voice(const SpeechVoice& v) {
  const auto bad = [](const std::string& what) { throw DataError("speech synthesis: " + what); };
  if (v.voice.empty() || v.voice.find_first_of(" \t\r\n") != std::string::npos || v.voice[0] == '-') {
    bad("voice must be one word like \"en-us+m3\" (got \"" + v.voice + "\")");
  }
  if (v.words_per_minute < 80 || v.words_per_minute > 450) {
    bad("words per minute must be in 80..450 (got " + std::to_string(v.words_per_minute) + ")");
  }
  if (v.pitch < 0 || v.pitch > 99) bad("pitch must be in 0..99 (got " + std::to_string(v.pitch) + ")");
}

// Reads the child's stderr until it closes it (the child exits).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kMaxStderr) out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

void synthesize_speech(const std::string& text, const SpeechVoice& voice, const std::string& out_path,
                       const std::string& program) {
  check_voice(voice);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw DataError("speech synthesis: empty text");
  const std::string wpm = std::to_string(voice.words_per_minute), pitch = std::to_string(voice.pitch);
  // "--" ends espeak-ng's options (getopt), so text starting with "-" is spoken.
  std::vector<std::string> args = {program, "-v", voice.voice, "-s", wpm, "-p", pitch, "-w", out_path, "--", text};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  SpawnResources r;
  // O_CLOEXEC: a child spawned by another thread at the same time must not
  // inherit our pipe, or our read would wait for that child too.
  if (::pipe2(r.pipe_fd, O_CLOEXEC) != 0) {
    throw DataError(std::string("speech synthesis: cannot create a pipe: ") + std::strerror(errno));
  }
  r.null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (r.null_fd < 0) throw DataError(std::string("speech synthesis: cannot open /dev/null: ") + std::strerror(errno));
  posix_spawn_file_actions_init(&r.actions);
  r.actions_ready = true;
  posix_spawn_file_actions_adddup2(&r.actions, r.null_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&r.actions, r.null_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&r.actions, r.pipe_fd[1], STDERR_FILENO);

  pid_t pid = -1;
  // posix_spawnp searches PATH and (glibc) reports a failed exec as its return value.
  const int rc = ::posix_spawnp(&pid, program.c_str(), &r.actions, nullptr, argv.data(), environ);
  if (rc == ENOENT) {
    throw DataError(program + " not found: install the Debian package espeak-ng (scripts/setup.sh does)");
  }
  if (rc != 0) throw DataError("speech synthesis: cannot run " + program + ": " + std::strerror(rc));
  ::close(r.pipe_fd[1]);  // only the child writes; EOF comes when it exits
  r.pipe_fd[1] = -1;
  const std::string err = read_all(r.pipe_fd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw DataError("speech synthesis: waiting for " + program + ": " + std::strerror(errno));
  }
  const std::string said = first_line(err);
  if (WIFSIGNALED(status)) {
    throw DataError(program + " was killed by signal " + std::to_string(WTERMSIG(status)) +
                    (said.empty() ? "" : ": " + said));
  }
  if (WEXITSTATUS(status) != 0) {
    throw DataError(program + " failed (exit " + std::to_string(WEXITSTATUS(status)) + ", voice " + voice.voice +
                    "): " + (said.empty() ? "no message" : said));
  }
  // espeak-ng exits 0 when it cannot create the WAV ("Can't write to: ..."), so look.
  struct stat st {};
  if (::stat(out_path.c_str(), &st) != 0 || st.st_size <= kWavHeader) {
    throw DataError(io::display_path(out_path) + ": " + program + " wrote no audio" +
                    (said.empty() ? "" : ": " + said));
  }
}

}  // namespace medtrain::data::audio

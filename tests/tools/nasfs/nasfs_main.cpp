// nasfs: mount a folder through an emulated NFS NAS, read-only unless --writable.
//   nasfs SRC MNT [--latency-ms=1] [--bandwidth-mbps=0] [--writable]
//         [--faults=FILE [--fault-seed=1] [--fault-log=FILE]] [FUSE options: -f, -o ...]
// Every request sleeps --latency-ms; all reads and writes share one link of
// --bandwidth-mbps MB/s (10^6 bytes/s; 0 = no cap). --faults names a control
// file of fault rules (fault_rules.h), re-read whenever it changes, so a test
// can flip faults mid-run; --fault-log gets one line per injected fault.
// Runs FUSE's multi-threaded loop so that requests overlap as on NFS.
// Unmount with `fusermount3 -u MNT`.
#include <sys/stat.h>

#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "tests/tools/nasfs/nasfs_ops.h"

namespace {

struct Options {
  double latency_ms = 1.0;
  double bandwidth_mbps = 0.0;
  int writable = 0;
  char* faults = nullptr;     // fuse_opt allocates %s values
  char* fault_log = nullptr;
  unsigned long fault_seed = 1;
  int help = 0;
  std::string source;
  std::string mountpoint;
};

const fuse_opt kOptionSpec[] = {
    {"--latency-ms=%lf", offsetof(Options, latency_ms), 0},
    {"--bandwidth-mbps=%lf", offsetof(Options, bandwidth_mbps), 0},
    {"--writable", offsetof(Options, writable), 1},
    {"--faults=%s", offsetof(Options, faults), 0},
    {"--fault-log=%s", offsetof(Options, fault_log), 0},
    {"--fault-seed=%lu", offsetof(Options, fault_seed), 0},
    {"-h", offsetof(Options, help), 1},
    {"--help", offsetof(Options, help), 1},
    FUSE_OPT_END};

// The first free argument is the backing folder (kept here, removed from the
// FUSE arguments); the second, the mount point, goes on to fuse_main.
int take_positional(void* data, const char* arg, int key, fuse_args*) {
  auto* o = static_cast<Options*>(data);
  if (key != FUSE_OPT_KEY_NONOPT) return 1;
  if (o->source.empty()) {
    o->source = arg;
    return 0;
  }
  if (o->mountpoint.empty()) o->mountpoint = arg;
  return 1;
}

void usage(const char* prog) {
  std::fprintf(stderr,
               "usage: %s SRC MNT [--latency-ms=MS] [--bandwidth-mbps=MBPS] [--writable]\n"
               "          [--faults=FILE [--fault-seed=N] [--fault-log=FILE]] [-f] [-o FUSE_OPTION]\n"
               "  SRC                 backing folder, served read-only unless --writable\n"
               "  --latency-ms=MS     per request (lookup/getattr, open, readdir, read, write...); default 1\n"
               "  --bandwidth-mbps=B  shared read/write bandwidth in MB/s (10^6 bytes/s); default 0 = no cap\n"
               "  --writable          also create, write, truncate, fsync, rename, unlink, mkdir, rmdir...\n"
               "  --faults=FILE       fault rules, re-read when FILE changes (missing or empty: none);\n"
               "                      one per line: OP GLOB FAULT [after=N] [count=N] [prob=P] [for=S]\n"
               "                      OP read|open|getattr|write|create|fsync|rename|any\n"
               "                      FAULT eio|estale|enospc|short|hang=SECONDS\n"
               "  --fault-seed=N      seed of the prob= draws; default 1\n"
               "  --fault-log=FILE    append '<unix_ms> <op> <path> <fault>' per injected fault\n"
               "  -f                  stay in the foreground\n",
               prog);
}

int fail(const std::string& what) {
  std::fprintf(stderr, "nasfs: error: %s\n", what.c_str());
  return 2;
}

// fuse_opt matches "--flag=value" only: join "--flag value" into that form.
std::vector<std::string> join_flag_values(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--latency-ms" || a == "--bandwidth-mbps" || a == "--faults" || a == "--fault-log" ||
         a == "--fault-seed") &&
        i + 1 < argc) {
      out.push_back(a + "=" + argv[++i]);
    } else {
      out.push_back(a);
    }
  }
  return out;
}

// Without -f FUSE daemonizes into "/": keep relative paths meaning what they meant.
std::string absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  char cwd[PATH_MAX];
  return getcwd(cwd, sizeof cwd) != nullptr ? std::string(cwd) + "/" + path : path;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> joined = join_flag_values(argc, argv);
  std::vector<char*> joined_argv;
  for (auto& a : joined) joined_argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(joined_argv.size()), joined_argv.data());
  Options o;
  if (fuse_opt_parse(&args, &o, kOptionSpec, take_positional) != 0) return fail("bad arguments (see --help)");
  if (o.help) {
    usage(argv[0]);
    return 0;
  }
  if (o.source.empty() || o.mountpoint.empty()) {
    usage(argv[0]);
    return fail("SRC and MNT are required");
  }
  if (!(o.latency_ms >= 0) || !(o.bandwidth_mbps >= 0)) {
    return fail("--latency-ms and --bandwidth-mbps must be >= 0");
  }
  char resolved[PATH_MAX];
  struct stat st {};
  if (realpath(o.source.c_str(), resolved) == nullptr || stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail("source folder '" + o.source + "' does not exist or is not a folder");
  }
  std::string source = resolved;
  if (source == "/") source.clear();  // paths from FUSE start with '/'
  if (o.fault_log != nullptr && o.faults == nullptr) return fail("--fault-log needs --faults");
  // Enough threads that a loader's parallel requests wait in parallel (and a
  // hang= fault holds one thread, not the mount); read-only at the kernel too
  // unless --writable; a name that `mount` and `df` show.
  fuse_opt_insert_arg(&args, 1, o.writable ? "-ofsname=nasfs,subtype=nasfs" : "-oro,fsname=nasfs,subtype=nasfs");
  fuse_opt_insert_arg(&args, 1, "-omax_threads=128,max_idle_threads=64");
  // NasState holds mutexes: built in place, never moved.
  std::unique_ptr<nasfs::NasState> state(
      new nasfs::NasState{source, nasfs::LinkModel(o.latency_ms, o.bandwidth_mbps), o.writable != 0, nullptr});
  if (o.faults != nullptr) {
    try {
      state->faults = std::make_unique<nasfs::FaultControl>(
          absolute(o.faults), o.fault_seed, o.fault_log != nullptr ? absolute(o.fault_log) : "");
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  const int rc = fuse_main(args.argc, args.argv, &nasfs::nas_operations(o.writable != 0), state.get());
  fuse_opt_free_args(&args);
  std::free(o.faults);
  std::free(o.fault_log);
  return rc;
}

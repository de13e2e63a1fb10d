// nasfs: mount a folder read-only through an emulated NFS NAS.
//   nasfs SRC MNT [--latency-ms=1] [--bandwidth-mbps=0] [FUSE options: -f, -o ...]
// Every open, lookup/getattr, readdir and read request sleeps --latency-ms;
// all reads share one link of --bandwidth-mbps MB/s (10^6 bytes/s; 0 = no cap).
// Runs FUSE's multi-threaded loop so that requests overlap as on NFS.
// Unmount with `fusermount3 -u MNT`.
#include <sys/stat.h>

#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tests/tools/nasfs/nasfs_ops.h"

namespace {

struct Options {
  double latency_ms = 1.0;
  double bandwidth_mbps = 0.0;
  int help = 0;
  std::string source;
  std::string mountpoint;
};

const fuse_opt kOptionSpec[] = {
    {"--latency-ms=%lf", offsetof(Options, latency_ms), 0},
    {"--bandwidth-mbps=%lf", offsetof(Options, bandwidth_mbps), 0},
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
               "usage: %s SRC MNT [--latency-ms=MS] [--bandwidth-mbps=MBPS] [-f] [-o FUSE_OPTION]\n"
               "  SRC                 backing folder, served read-only\n"
               "  --latency-ms=MS     per request (lookup/getattr, open, readdir, read); default 1\n"
               "  --bandwidth-mbps=B  shared read bandwidth in MB/s (10^6 bytes/s); default 0 = no cap\n"
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
    if ((a == "--latency-ms" || a == "--bandwidth-mbps") && i + 1 < argc) {
      out.push_back(a + "=" + argv[++i]);
    } else {
      out.push_back(a);
    }
  }
  return out;
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
  // Enough threads that a loader's parallel requests wait in parallel; read-only
  // at the kernel too; a name that `mount` and `df` show.
  fuse_opt_insert_arg(&args, 1, "-oro,fsname=nasfs,subtype=nasfs");
  fuse_opt_insert_arg(&args, 1, "-omax_threads=128,max_idle_threads=64");
  // NasState holds a mutex: built in place, never moved.
  std::unique_ptr<nasfs::NasState> state(
      new nasfs::NasState{source, nasfs::LinkModel(o.latency_ms, o.bandwidth_mbps)});
  const int rc = fuse_main(args.argc, args.argv, &nasfs::nas_operations(), state.get());
  fuse_opt_free_args(&args);
  return rc;
}

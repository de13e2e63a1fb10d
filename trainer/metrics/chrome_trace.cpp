#include "trainer/metrics/chrome_trace.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace medtrain::metrics {

namespace {

double micros(ChromeTrace::Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

const char* track_name(int track) {
  switch (track) {
    case ChromeTrace::kComm: return "communication";
    case ChromeTrace::kData: return "data";
    default: return "compute";
  }
}

}  // namespace

ChromeTrace::ChromeTrace(const std::filesystem::path& path, int rank) : rank_(rank), origin_(Clock::now()) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) throw std::runtime_error("cannot write timeline " + path.string());
  std::fputs("[\n", file_);
  for (int track : {kCompute, kComm, kData}) {
    const nlohmann::json meta = {{"name", "thread_name"}, {"ph", "M"}, {"pid", rank_}, {"tid", track},
                                 {"args", {{"name", track_name(track)}}}};
    std::fputs(((first_ ? "" : ",\n") + meta.dump()).c_str(), file_);
    first_ = false;
  }
  const nlohmann::json proc = {{"name", "process_name"}, {"ph", "M"}, {"pid", rank_},
                               {"args", {{"name", fmt::format("rank {}", rank_)}}}};
  std::fputs((",\n" + proc.dump()).c_str(), file_);
}

ChromeTrace::~ChromeTrace() { close(); }

void ChromeTrace::span(const std::string& name, Track track, Clock::time_point start, Clock::time_point end,
                       int64_t step) {
  if (file_ == nullptr) return;
  const nlohmann::json e = {{"name", name}, {"ph", "X"}, {"pid", rank_}, {"tid", static_cast<int>(track)},
                            {"ts", micros(start - origin_)}, {"dur", micros(end - start)},
                            {"args", {{"step", step}}}};
  std::fputs((",\n" + e.dump()).c_str(), file_);
}

void ChromeTrace::close() {
  if (file_ == nullptr) return;
  std::fputs("\n]\n", file_);
  std::fclose(file_);
  file_ = nullptr;
}

}  // namespace medtrain::metrics

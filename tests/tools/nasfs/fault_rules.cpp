#include "tests/tools/nasfs/fault_rules.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace nasfs {

namespace {

struct OpName {
  const char* name;
  FaultOp op;
};
const OpName kOps[] = {{"read", FaultOp::kRead},     {"open", FaultOp::kOpen},     {"getattr", FaultOp::kGetattr},
                       {"write", FaultOp::kWrite},   {"create", FaultOp::kCreate}, {"fsync", FaultOp::kFsync},
                       {"rename", FaultOp::kRename}, {"any", FaultOp::kAny}};

FaultOp parse_op(const std::string& s, int line) {
  for (const auto& o : kOps) {
    if (s == o.name) return o.op;
  }
  throw FaultRuleError(line, "unknown OP '" + s + "' (read|open|getattr|write|create|fsync|rename|any)");
}

// The whole token must be a number: "1x" or "" are errors, not 1 or 0.
double parse_double(const std::string& s, const std::string& what, int line) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) {
    throw FaultRuleError(line, what + " expects a number, got '" + s + "'");
  }
  return v;
}

long long parse_count(const std::string& s, const std::string& what, int line) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 0) {
    throw FaultRuleError(line, what + " expects a whole number >= 0, got '" + s + "'");
  }
  return v;
}

void parse_fault(const std::string& s, FaultRule& r, int line) {
  r.fault = s;
  if (s == "eio") {
    r.kind = FaultKind::kEio;
  } else if (s == "estale") {
    r.kind = FaultKind::kEstale;
  } else if (s == "enospc") {
    r.kind = FaultKind::kEnospc;
  } else if (s == "short") {
    r.kind = FaultKind::kShort;
  } else if (s.rfind("hang=", 0) == 0) {
    r.kind = FaultKind::kHang;
    r.hang_s = parse_double(s.substr(5), "hang=", line);
    if (r.hang_s <= 0) throw FaultRuleError(line, "hang= expects seconds > 0, got '" + s.substr(5) + "'");
  } else {
    throw FaultRuleError(line, "unknown FAULT '" + s + "' (eio|estale|enospc|short|hang=SECONDS)");
  }
}

void parse_option(const std::string& tok, FaultRule& r, std::set<std::string>& seen, int line) {
  const auto eq = tok.find('=');
  if (eq == std::string::npos) throw FaultRuleError(line, "expected KEY=VALUE, got '" + tok + "'");
  const std::string key = tok.substr(0, eq), value = tok.substr(eq + 1);
  if (!seen.insert(key).second) throw FaultRuleError(line, key + "= given twice");
  if (key == "after") {
    r.after = parse_count(value, "after=", line);
  } else if (key == "count") {
    r.count = parse_count(value, "count=", line);
    if (r.count == 0) throw FaultRuleError(line, "count= must be >= 1 (a rule that never fires is a mistake)");
  } else if (key == "prob") {
    r.prob = parse_double(value, "prob=", line);
    if (r.prob < 0 || r.prob > 1) throw FaultRuleError(line, "prob= must be in [0, 1], got '" + value + "'");
  } else if (key == "for") {
    r.for_s = parse_double(value, "for=", line);
    if (r.for_s <= 0) throw FaultRuleError(line, "for= expects seconds > 0, got '" + value + "'");
  } else {
    throw FaultRuleError(line, "unknown option '" + key + "=' (after=|count=|prob=|for=)");
  }
}

FaultRule parse_line(const std::vector<std::string>& tokens, int line) {
  if (tokens.size() < 3) throw FaultRuleError(line, "expected OP GLOB FAULT [options], got too few fields");
  FaultRule r;
  r.line = line;
  r.op = parse_op(tokens[0], line);
  r.glob = tokens[1];
  if (r.glob.front() == '/') throw FaultRuleError(line, "GLOB is relative to the mount root: drop the leading '/'");
  parse_fault(tokens[2], r, line);
  if (r.kind == FaultKind::kShort && r.op != FaultOp::kRead && r.op != FaultOp::kAny) {
    throw FaultRuleError(line, "short applies to reads only (OP read or any)");
  }
  std::set<std::string> seen;
  for (size_t i = 3; i < tokens.size(); ++i) parse_option(tokens[i], r, seen, line);
  return r;
}

}  // namespace

std::vector<FaultRule> parse_fault_rules(const std::string& text) {
  std::vector<FaultRule> rules;
  std::istringstream in(text);
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    const auto hash = raw.find('#');
    if (hash != std::string::npos) raw.resize(hash);
    std::istringstream fields(raw);
    std::vector<std::string> tokens;
    for (std::string t; fields >> t;) tokens.push_back(t);
    if (!tokens.empty()) rules.push_back(parse_line(tokens, line));
  }
  return rules;
}

const char* fault_op_name(FaultOp op) {
  for (const auto& o : kOps) {
    if (o.op == op) return o.name;
  }
  return "other";
}

}  // namespace nasfs

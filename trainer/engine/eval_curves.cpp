// PLACEHOLDER (session 12 scaffolding): helper H3 replaces this file.
#include "trainer/engine/eval_curves.h"

#include <nlohmann/json.hpp>

namespace medtrain::engine {
void log_eval_curves(RunLogger&, int64_t, Task, const EvalOutputs&, const std::vector<std::string>&) {}
nlohmann::json eval_curves_json(Task, const EvalOutputs&, const std::vector<std::string>&) { return nlohmann::json::object(); }
}  // namespace medtrain::engine

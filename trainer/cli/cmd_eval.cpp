// medtrain eval -c FILE [--checkpoint PATH | --pretrained] [--json]
// --json: the metrics, and for classification the confusion matrix and the
// ROC and PR curve points (eval_curves.h), as one JSON object.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <memory>

#include "trainer/cli/commands.h"
#include "trainer/config/config_loader.h"
#include "trainer/engine/eval_curves.h"
#include "trainer/engine/evaluator.h"
#include "trainer/engine/task.h"
#include "trainer/engine/trainer.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "evaluate a checkpoint on the validation split");
  auto flags = std::make_shared<ConfigFlags>();
  auto checkpoint = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto pretrained = std::make_shared<bool>(false);
  add_config_flags(*cmd, *flags);
  auto* ckpt_opt =
      cmd->add_option("--checkpoint", *checkpoint, "checkpoint directory (default: the run's ckpt/latest)");
  cmd->add_flag("--pretrained", *pretrained,
                "evaluate model.pretrained as loaded, before any training (the baseline a fine-tune must beat)")
      ->excludes(ckpt_opt);
  cmd->add_flag("--json", *json,
                "print the metrics as one JSON object (classification: with the confusion matrix and the ROC "
                "and PR points)");
  return {cmd, [flags, checkpoint, json, pretrained] {
            auto cfg = load_config_flags(*flags, "eval");
            if (*pretrained && cfg.model.pretrained.empty()) {
              throw UserError("eval --pretrained: model.pretrained is empty (nothing to evaluate before training)");
            }
            std::filesystem::path path = checkpoint->empty()
                                             ? std::filesystem::path(cfg.run.output_dir) / cfg.run.name / "ckpt"
                                             : std::filesystem::path(*checkpoint);
            engine::EvalOutputs outputs;
            auto metrics = *pretrained ? engine::evaluate_pretrained(cfg, &outputs)
                                       : engine::evaluate_checkpoint(cfg, path, &outputs);
            if (*json) {
              nlohmann::json out;
              for (const auto& [k, v] : metrics) out[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
              // Classification: the confusion matrix and the ROC and PR points (eval_curves.h).
              out.update(engine::eval_curves_json(engine::resolve_task(cfg), outputs, cfg.data.label_names));
              fmt::print("{}\n", out.dump());
            } else {
              for (const auto& [k, v] : metrics) fmt::print("{:<14} {:.4f}\n", k, v);
            }
            return kExitOk;
          }};
}

}  // namespace medtrain::cli

// medtrain models: the zoo, with parameter counts and pretrained sources.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "models/registry.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "list the model zoo");
  return {cmd, [] {
            // Columns as wide as their longest entry (efficientnet_b0, EfficientNet).
            size_t name_width = 5, family_width = 6, input_width = 5;
            for (const auto& info : models::model_zoo()) {
              name_width = std::max(name_width, info.name.size());
              family_width = std::max(family_width, info.family.size());
              input_width = std::max(input_width, info.input.size());
            }
            auto row = [&](const std::string& name, const std::string& family, const std::string& task,
                           const std::string& parameters, const std::string& input, const std::string& sources) {
              fmt::print("{:<{}} {:<{}} {:<14} {:>10}  {:<{}}  {}\n", name, name_width, family, family_width, task,
                         parameters, input, input_width, sources);
            };
            row("model", "family", "task", "parameters", "input", "pretrained sources");
            for (const auto& info : models::model_zoo()) {
              // Counted on the reference configuration (ImageNet: 3 channels, 1000 classes).
              auto model = models::create_model({info.name, 1000, 3});
              row(info.name, info.family, info.task, fmt::format("{:.1f}M", models::parameter_count(*model) / 1e6),
                  info.input, info.pretrained);
            }
            // Text encoders are built from the Hugging Face folder model.pretrained names.
            row("bert", "BERT", "text", "from folder", "[N, L] int64 token ids",
                "a Hugging Face BERT folder (config.json + weights + tokenizer), e.g. all-MiniLM-L6-v2");
            fmt::print("\nmodel.pretrained reads a PyTorch .pth/.pt state dict (torch.save), a safetensors file or a\n"
                       "medtrain checkpoint folder; 3-channel stems load into in_channels: 1 models (summed over\n"
                       "channels); model.pretrained_skip: [fc] keeps a new head. bert (data.dataset: text) takes the\n"
                       "folder itself: tasks text_classification, multiclass, token_classification. See docs/models.md\n"
                       "and docs/text.md.\n");
            return kExitOk;
          }};
}

}  // namespace medtrain::cli

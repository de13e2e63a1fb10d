// medtrain models: the zoo, with parameter counts and pretrained sources.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "models/registry.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "list the model zoo");
  return {cmd, [] {
            size_t input_width = 5;
            for (const auto& info : models::model_zoo()) input_width = std::max(input_width, info.input.size());
            fmt::print("{:<12} {:<9} {:<14} {:>10}  {:<{}}  {}\n", "model", "family", "task", "parameters", "input",
                       input_width, "pretrained sources");
            for (const auto& info : models::model_zoo()) {
              // Counted on the reference configuration (ImageNet: 3 channels, 1000 classes).
              auto model = models::create_model({info.name, 1000, 3});
              fmt::print("{:<12} {:<9} {:<14} {:>9.1f}M  {:<{}}  {}\n", info.name, info.family, info.task,
                         models::parameter_count(*model) / 1e6, info.input, input_width, info.pretrained);
            }
            // Text encoders are built from the Hugging Face folder model.pretrained names.
            fmt::print("{:<12} {:<9} {:<14} {:>10}  {:<{}}  {}\n", "bert", "BERT", "text", "from folder",
                       "[N, L] int64 token ids", input_width,
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

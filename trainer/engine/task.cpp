#include "trainer/engine/task.h"

#include <fmt/format.h>
#include <torch/nn/functional/loss.h>

#include "kernels/softmax_cross_entropy.h"
#include "models/asr/whisper_task_model.h"
#include "models/registry.h"
#include "trainer/user_error.h"

namespace medtrain::engine {
namespace {

std::string zoo_task(const std::string& model) {
  for (const auto& info : models::model_zoo()) {
    if (info.name == model) return info.task;
  }
  return "classification";  // unknown names fail later, in create_model, listing the zoo
}

// The U-Nets halve every spatial dimension 4 times (MONAI BasicUNet): a side
// under 16 reaches 0 and LibTorch fails mid-forward with a pooling message.
void check_unet_input(const config::Config& cfg) {
  constexpr int64_t kMinSide = 16;
  const auto& d = cfg.data;
  auto need = [&](const char* key, int64_t value) {
    if (value < kMinSide) {
      throw UserError(fmt::format("data.{} {}: model.name {} halves each side 4 times, so inputs need >= {}", key,
                                  value, cfg.model.name, kMinSide));
    }
  };
  const bool patches = d.patch_size > 0;  // training sees patches, evaluation whole inputs
  if (patches) need("patch_size", d.patch_size);
  need("image_size", d.image_size);
  if (d.depth == 0) return;
  if (patches && d.patch_depth > 0) need("patch_depth", d.patch_depth);
  need("depth", d.depth);
}

constexpr const char* kTextModel = "bert";

Task resolve_text_task(const config::Config& cfg) {
  const std::string& asked = cfg.model.task;
  if (cfg.model.name != kTextModel) {
    throw UserError(fmt::format("data.dataset text needs model.name {} (a BERT-family encoder from model.pretrained), "
                                "not {}",
                                kTextModel, cfg.model.name));
  }
  if (cfg.model.pretrained.empty()) {
    throw UserError("model.name bert needs model.pretrained: a Hugging Face model folder (config.json, weights, "
                    "tokenizer.json or vocab.txt)");
  }
  if (asked == "token_classification") return Task::kTokenTagging;
  if (asked == "text_classification" || asked == "multilabel") return Task::kMultilabel;
  if (asked == "multiclass") return Task::kMulticlass;
  throw UserError(fmt::format("model.task {} does not fit text; use text_classification (findings: multilabel), "
                              "multiclass or token_classification",
                              asked));
}

constexpr const char* kSpeechModel = "whisper";

Task resolve_speech_task(const config::Config& cfg) {
  if (cfg.model.name != kSpeechModel) {
    throw UserError(fmt::format("data.dataset speech needs model.name {} (from model.pretrained), not {}",
                                kSpeechModel, cfg.model.name));
  }
  if (cfg.model.pretrained.empty()) {
    throw UserError("model.name whisper needs model.pretrained: a Whisper model folder (CTranslate2: model.bin, "
                    "vocabulary.txt, tokenizer.json; or Hugging Face: config.json, model.safetensors, "
                    "tokenizer.json)");
  }
  if (cfg.model.task != "asr" && cfg.model.task != "auto") {
    throw UserError(fmt::format("model.task {} does not fit speech; use asr", cfg.model.task));
  }
  return Task::kSpeech;
}

// data.colour rgb feeds [3, S, S] 2D images read from the DICOM files.
void check_colour_input(const config::Config& cfg) {
  if (cfg.data.colour != "rgb") return;
  if (cfg.model.in_channels != 3) {
    throw UserError(fmt::format("data.colour rgb feeds 3 channels: set model.in_channels to 3 (it is {})",
                                cfg.model.in_channels));
  }
  if (cfg.data.depth > 0) throw UserError("data.colour rgb is for 2D images, but data.depth > 0 reads volumes");
  if (!cfg.data.shards.empty()) {
    throw UserError("data.colour rgb reads the DICOM files; shards (data.shards) hold grey images only");
  }
}

}  // namespace

bool is_text(const config::Config& cfg) { return cfg.data.dataset == "text"; }
bool is_speech(const config::Config& cfg) { return cfg.data.dataset == "speech"; }

Task resolve_task(const config::Config& cfg) {
  if (is_text(cfg)) return resolve_text_task(cfg);
  if (is_speech(cfg)) return resolve_speech_task(cfg);
  if (cfg.model.name == kSpeechModel || cfg.model.task == "asr") {
    throw UserError(fmt::format("model.name {} with model.task {} reads speech: set data.dataset: speech",
                                cfg.model.name, cfg.model.task));
  }
  if (cfg.model.name == kTextModel || cfg.model.task == "text_classification" ||
      cfg.model.task == "token_classification") {
    throw UserError(fmt::format("model.name {} with model.task {} reads text: set data.dataset: text", cfg.model.name,
                                cfg.model.task));
  }
  const std::string kind = zoo_task(cfg.model.name);
  const std::string& asked = cfg.model.task;
  const Task task = asked == "multilabel"     ? Task::kMultilabel
                    : asked == "segmentation" ? Task::kSegmentation
                    : asked == "multiclass"   ? Task::kMulticlass
                    : kind == "segmentation"  ? Task::kSegmentation
                                              : Task::kMulticlass;
  const bool segments = kind == "segmentation";
  if (segments != (task == Task::kSegmentation)) {
    throw UserError(fmt::format("model.task {} does not fit model.name {}, a {} model{}", task_name(task),
                                cfg.model.name, kind,
                                segments ? " (use model.task: segmentation)" : " (segmentation needs unet2d or unet3d)"));
  }
  const bool volume_model = cfg.model.name == "unet3d";
  if (segments && volume_model != (cfg.data.depth > 0)) {
    throw UserError(fmt::format("model.name {} takes {} but data.depth is {} ({})", cfg.model.name,
                                volume_model ? "volumes" : "2D images", cfg.data.depth,
                                volume_model ? "set data.depth to the slices per volume" : "0 means 2D images"));
  }
  if (segments) check_unet_input(cfg);
  check_colour_input(cfg);
  if (!segments && cfg.data.depth > 0) {
    throw UserError(fmt::format("data.depth {} reads volumes, but model.name {} takes 2D images", cfg.data.depth,
                                cfg.model.name));
  }
  return task;
}

std::string task_name(Task task) {
  switch (task) {
    case Task::kMultilabel: return "multilabel";
    case Task::kSegmentation: return "segmentation";
    case Task::kTokenTagging: return "token_classification";
    case Task::kSpeech: return "asr";
    default: return "multiclass";
  }
}

data::TargetKind target_kind(Task task) {
  switch (task) {
    case Task::kMultilabel: return data::TargetKind::kMultiLabel;
    case Task::kSegmentation:
    case Task::kTokenTagging:
    case Task::kSpeech: return data::TargetKind::kMask;  // a class per position
    default: return data::TargetKind::kClass;
  }
}

torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  const auto probs = logits.to(torch::kFloat32).softmax(1);
  const auto truth = torch::one_hot(targets, logits.size(1)).movedim(-1, 1).to(torch::kFloat32);
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < logits.dim(); ++d) spatial.push_back(d);
  const auto intersection = (probs * truth).sum(spatial);
  const auto denominator = probs.sum(spatial) + truth.sum(spatial);
  constexpr double kSmooth = 1e-5;
  return (1.0 - (2.0 * intersection + kSmooth) / (denominator + kSmooth)).mean();
}

torch::Tensor task_loss(Task task, const torch::Tensor& logits, const torch::Tensor& targets, bool fused) {
  namespace F = torch::nn::functional;
  switch (task) {
    case Task::kMultilabel:
      return F::binary_cross_entropy_with_logits(logits.to(torch::kFloat32), targets);
    case Task::kSegmentation:
      return F::cross_entropy(logits.to(torch::kFloat32), targets) + soft_dice_loss(logits, targets);
    case Task::kTokenTagging:  // -100 (special tokens, padding) is cross_entropy's default ignore_index
      return F::cross_entropy(logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}), targets.reshape({-1}));
    default:
      if (fused && logits.is_cuda() && logits.dim() == 2) {
        // Gradient computed in the forward pass; logits read twice, never stored.
        return kernels::softmax_cross_entropy(logits.contiguous(), targets);
      }
      return F::cross_entropy(logits, targets);
  }
}

torch::Tensor step_loss(Task task, models::ImageModel& model, const torch::Tensor& x, const torch::Tensor& y,
                        bool fused, double label_smoothing) {
  if (task != Task::kSpeech) return task_loss(task, model.forward(x), y, fused);
  namespace F = torch::nn::functional;
  auto& whisper = dynamic_cast<models::asr::WhisperTaskModel&>(model);
  const auto teacher = models::asr::teacher_forcing(y, whisper.config().eos_token_id);
  const auto logits = whisper.logits(x, teacher.tokens).to(torch::kFloat32);
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), teacher.labels.reshape({-1}),
                          F::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
}

}  // namespace medtrain::engine

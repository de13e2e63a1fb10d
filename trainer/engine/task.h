#pragma once
// What the network is trained to predict (model.task), and the loss for it:
//
//   multiclass    logits [N, K]          targets int64 [N]         softmax cross-entropy
//   multilabel    logits [N, L]          targets float [N, L] 0/1  binary cross-entropy on
//                                                                  sigmoid(logits), mean over N*L
//   segmentation  logits [N, K, *sp]     targets int64 [N, *sp]    cross-entropy per pixel
//                                                                  + soft Dice (below)
//   token tagging logits [N, L, K]       targets int64 [N, L]      cross-entropy per token,
//                                        (-100: not scored)        over scored tokens
//
//   asr           logits [N, T, V]       targets int64 [N, L]      teacher-forced cross-entropy per
//                                        (prompt+text+eot, -100)   token (label-smoothed), over the
//                                                                  text and <|endoftext|> tokens
//
// Text (data.dataset: text, model.name: bert) trains multiclass, multilabel
// (model.task text_classification = multilabel: report findings) or token
// tagging (model.task token_classification: BIO tags of entity spans).
//
// The segmentation loss is MONAI's DiceCELoss(softmax=True, to_onehot_y=True)
// with its defaults, so recipes tuned with MONAI carry over: Dice per sample
// and class on softmax probabilities, 1 - (2 sum(p g) + 1e-5) / (sum p + sum g
// + 1e-5) averaged over samples and classes (background included), plus the
// mean pixel cross-entropy. tests/trainer/engine compares it with MONAI.
#include <torch/types.h>

#include <string>

#include "data/dataset.h"
#include "models/image_model.h"
#include "trainer/config/config.h"

namespace medtrain::engine {

enum class Task { kMulticlass, kMultilabel, kSegmentation, kTokenTagging, kSpeech };

// model.task, with "auto" resolved through the model zoo (U-Nets segment,
// the rest classify). UserError when the task does not fit the model (a
// classifier cannot segment, a U-Net cannot classify) or the data
// (segmentation of 2D images needs a 2D U-Net, of volumes a 3D one).
Task resolve_task(const config::Config& cfg);
// data.dataset is text (so model.name is a text model).
bool is_text(const config::Config& cfg);
// data.dataset is speech (so model.name is whisper, model.task asr).
bool is_speech(const config::Config& cfg);
std::string task_name(Task task);
data::TargetKind target_kind(Task task);

// The training loss for `task` (float32, a scalar). `fused`: use the fused
// CUDA softmax cross-entropy for multiclass logits on the GPU.
torch::Tensor task_loss(Task task, const torch::Tensor& logits, const torch::Tensor& targets, bool fused);

// One micro-step's loss: task_loss of model.forward(x), or for asr the
// teacher-forced cross-entropy of the Whisper (models/asr/whisper_task_model.h)
// on targets y, with `label_smoothing`.
torch::Tensor step_loss(Task task, models::ImageModel& model, const torch::Tensor& x, const torch::Tensor& y,
                        bool fused, double label_smoothing);

// The Dice part of the segmentation loss alone (see above).
torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace medtrain::engine

#pragma once
// Evaluation over a whole split, from the outputs of every sample (not
// averaged per batch), by model.task:
//   multiclass    val/loss (cross-entropy), val/accuracy, val/auroc, val/f1_macro
//   multilabel    val/loss (binary cross-entropy), val/accuracy (per label at
//                 logit 0), val/auroc_<label> and val/auroc, their mean over
//                 labels with both outcomes present; val/f1_micro, val/f1_macro
//                 and val/f1_<label> (predicted: logit > 0)
//   token tagging val/loss (cross-entropy per scored token), entity-level
//                 val/precision, val/recall, val/f1 (micro), val/f1_macro and
//                 val/f1_<type>, with seqeval's semantics (metrics/entity_metrics.h)
//   segmentation  val/loss (Dice + CE, task.h), val/dice_<class> over all
//                 pixels of the split (metrics/dice.h) and val/dice, the mean
//                 over the foreground classes
// plus val/samples, and val/skipped (over all ranks) when data.on_error: skip
// left samples out. Leaves the model in eval mode; the caller switches back to train().
#include <c10/core/Device.h>
#include <torch/types.h>

#include <map>
#include <string>

#include "data/dataset.h"
#include "models/image_model.h"
#include "trainer/config/config.h"
#include "trainer/dist/communicator.h"

namespace medtrain::engine {

// What the curves of eval_curves.h are drawn from: every sample of the split,
// all ranks gathered. Filled for multiclass (logits [N, K], targets int64 [N])
// and multilabel (logits [N, L], targets float [N, L]); left undefined for the
// other tasks.
struct EvalOutputs {
  torch::Tensor logits, targets;  // float32 / as above, on the CPU
};

// With a communicator, rank r scores samples r, r+N, ... and the logits of all
// ranks are gathered, so every rank computes the same metrics over the whole
// split (AUROC cannot be averaged per shard).
std::map<std::string, double> evaluate(models::ImageModel& model, const data::Dataset& dataset,
                                       const config::Config& cfg, c10::Device device,
                                       dist::Communicator* comm = nullptr, EvalOutputs* outputs = nullptr);

}  // namespace medtrain::engine

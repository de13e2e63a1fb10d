#pragma once
// The Dice score of a segmentation over a whole evaluation set: per class c,
// 2|P_c ∩ G_c| / (|P_c| + |G_c|), with P the argmax prediction and G the mask,
// counted over every pixel of every sample (not averaged per image, so small
// structures weigh by their size, as in MONAI's DiceMetric with reduction
// "sum" over the batch). Counts add up across batches and ranks.
#include <torch/types.h>

#include <vector>

namespace medtrain::metrics {

struct DiceCounts {
  torch::Tensor intersection, predicted, truth;  // float64 [K], CPU

  // logits [N, K, *spatial], targets int64 [N, *spatial]; throws
  // std::invalid_argument for shapes that do not match.
  void add(const torch::Tensor& logits, const torch::Tensor& targets);
  // The three vectors side by side, [3K], for one all-reduce; and back.
  torch::Tensor packed() const;
  static DiceCounts unpack(const torch::Tensor& packed);
};

// Per class; NaN where the class is absent from both prediction and truth.
std::vector<double> dice_per_class(const DiceCounts& counts);

// Mean of the finite per-class scores over classes 1..K-1 (class 0 is the
// background, whose near-perfect score would hide a missed lesion); over all
// classes when K == 1. NaN when none is finite.
double mean_foreground_dice(const std::vector<double>& per_class);

}  // namespace medtrain::metrics

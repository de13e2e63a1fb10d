#pragma once
// Fitting pretrained tensors to a model whose input differs from the one they
// were trained on, before the strict name/shape check of load_state_dict.
//
// Note [Grey input from RGB weights]: a model built with in_channels = 1 takes
// the 3-channel stem convolution (ResNet conv1.weight, DenseNet
// features.conv0.weight: [64, 3, 7, 7]) summed over its input-channel
// dimension ([64, 1, 7, 7]). For a grey image g, the RGB network saw the
// replicated image (g, g, g) and computed sum_c w_c * g = (sum_c w_c) * g, so
// the summed kernel gives exactly the activations the RGB network gives for
// that image: the scale of every later layer (and its BatchNorm statistics)
// stays valid. Averaging instead would divide the activations by 3.
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "models/safetensors.h"

namespace medtrain::models::pretrained {

// For every tensor whose shape differs from the model's tensor of the same
// name only in dimension 1, with the model's size 1 there (a conv weight of a
// single-channel stem), sums it over dimension 1. One note per tensor changed.
void adapt_input_channels(NamedTensors& tensors, const torch::nn::Module& model, std::vector<std::string>& notes);

// Casts floating-point tensors to the model's floating dtype (e.g. F16 files
// into an F32 model) and integer to integer (num_batches_tracked); one note
// per kind of cast. ModelError naming each tensor whose dtype the model cannot
// take (integer or bool data for a float parameter, float for an integer
// buffer, complex anywhere).
void conform_dtypes(NamedTensors& tensors, const torch::nn::Module& model, const std::string& origin,
                    std::vector<std::string>& notes);

}  // namespace medtrain::models::pretrained

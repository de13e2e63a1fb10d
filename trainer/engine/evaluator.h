#pragma once
// Evaluation over a whole split: mean cross-entropy, accuracy and AUROC from
// the logits of every sample (not averaged per batch). Leaves the model in
// eval mode; the caller switches back to train().
#include <c10/core/Device.h>

#include <map>
#include <string>

#include "data/dataset.h"
#include "models/image_model.h"
#include "trainer/config/config.h"
#include "trainer/dist/communicator.h"

namespace medtrain::engine {

// Keys: "val/loss", "val/accuracy", "val/auroc", "val/samples".
// With a communicator, rank r scores samples r, r+N, ... and the logits of all
// ranks are gathered, so every rank computes the same metrics over the whole
// split (AUROC cannot be averaged per shard).
std::map<std::string, double> evaluate(models::ImageModel& model, const data::Dataset& dataset,
                                       const config::Config& cfg, c10::Device device,
                                       dist::Communicator* comm = nullptr);

}  // namespace medtrain::engine

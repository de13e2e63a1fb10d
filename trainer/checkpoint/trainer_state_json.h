#pragma once
// trainer_state.json of a checkpoint: TrainerState plus the SHA-256 of the
// config it was trained with. Doubles round-trip bit-exactly (shortest
// round-trip decimal); NaN and infinities, which JSON lacks, are written as
// the strings "nan", "inf", "-inf".
#include <string>

#include "trainer/checkpoint/trainer_state.h"

namespace medtrain::checkpoint {

constexpr const char* kTrainerStateFormat = "medtrain-trainer-state/1";

std::string trainer_state_json(const TrainerState& state, const std::string& config_sha256);

// `where` names the file in errors, e.g. "checkpoint runs/x/ckpt/step-00000010:
// trainer_state.json". Missing keys and wrong types are CheckpointErrors.
TrainerState parse_trainer_state(const std::string& text, const std::string& where,
                                 std::string* config_sha256);

}  // namespace medtrain::checkpoint

#pragma once
// A Hugging Face model folder as published (config.json + model.safetensors or
// pytorch_model.bin, vocab.txt / tokenizer.json beside them) -> a BertModel with
// those weights. Checkpoints of task models (BertForSequenceClassification:
// "bert." prefixes, "classifier.*", "cls.*") load their encoder; what is left
// out is said in the notes. A config.json that does not fit the weights is one
// ModelError listing every mismatch.
#include <filesystem>
#include <string>
#include <vector>

#include "models/nlu/bert.h"

namespace medtrain::models::nlu {

struct HfBert {
  BertModel model{nullptr};                // eval mode, CPU, fp32
  std::vector<std::string> notes;          // e.g. "dropped 2 tensors of a task head (classifier.*)"
  std::filesystem::path weights_file;
};

// ModelError naming the folder and the problem: no config.json, no weights,
// weights that do not fit the config, a vocab.txt whose size is not vocab_size.
// keep_pooler false: the pooler's tensors are left out (and noted), for task
// heads that do not use it.
HfBert load_hf_bert(const std::filesystem::path& dir, bool keep_pooler = true);

// config.json alone (checked against vocab.txt), for building the architecture
// whose weights come from elsewhere (a checkpoint).
BertConfig read_hf_bert_config(const std::filesystem::path& dir);

}  // namespace medtrain::models::nlu

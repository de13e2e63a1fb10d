#pragma once
// CTranslate2 variables (models/asr/ct2_model_file.h) as torch tensors: float
// variables copied out of the file's unaligned bytes and converted to the dtype
// asked for; int8/int16 weights dequantized with their "<name>_scale" exactly
// as ctranslate2's Dequantize op does (q / scale, in float32, one scale per
// row of dimension 0 or one for the whole tensor). See docs/asr.md.
#include <torch/types.h>

#include <string>

#include "models/asr/ct2_model_file.h"

namespace medtrain::models::asr {

// A float32/float16/bfloat16 variable as an owned CPU tensor of `dtype`.
// ModelError for integer variables.
torch::Tensor ct2_float_tensor(const Ct2Variable& v, torch::ScalarType dtype, const std::string& origin);

// The int8 or int16 `q` divided by `scale` (float32; a scalar or one value per
// row of dimension 0), then converted to `dtype`.
torch::Tensor ct2_dequantize(const Ct2Variable& q, const Ct2Variable& scale, torch::ScalarType dtype,
                             const std::string& origin);

// The variable (or alias) `name` of `file` as a float tensor of `dtype`:
// copied when it is a float, dequantized when it is int8/int16 with a
// "<variable>_scale" beside it. Sets *scale_used to the scale's name ("" when
// none). ModelError when missing or of another dtype.
torch::Tensor ct2_weight(const Ct2ModelFile& file, const std::string& name, torch::ScalarType dtype,
                         std::string* scale_used = nullptr);

}  // namespace medtrain::models::asr

#pragma once
// The safetensors tests' name for the shared per-test folder.
#include "tests/common/temp_dir.h"

namespace medtrain::testing {

using ScopedTempDir = TempDir;

}  // namespace medtrain::testing

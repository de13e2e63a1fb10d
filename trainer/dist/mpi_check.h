#pragma once
// MPI return codes to exceptions that say which call failed and why.
#include <string>

namespace medtrain::dist {

// Throws std::runtime_error "MPI_<what> failed: <MPI's error string>" unless
// rc == MPI_SUCCESS.
void mpi_check(int rc, const char* what);

}  // namespace medtrain::dist

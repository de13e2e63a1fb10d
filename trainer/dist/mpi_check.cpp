#include "trainer/dist/mpi_check.h"

#include <mpi.h>

#include <stdexcept>

namespace medtrain::dist {

void mpi_check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string("MPI_") + what + " failed: " + std::string(text, static_cast<size_t>(len)));
}

}  // namespace medtrain::dist

// medtrain: parse the command line, run the command, turn errors into one line.
#include "trainer/cli/app.h"

int main(int argc, char** argv) { return medtrain::cli::run_app(argc, argv); }

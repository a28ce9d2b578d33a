// dectl: the operator's command-line tool for de-scheduler. See cli/cli.h.
#include "cli/cli.h"

int main(int argc, char** argv) { return de::cli::Main(argc, argv); }

// dectl's entry point as a library: parses argv, runs one command, returns the exit code.
// Not thread-safe (one command per call); all output goes to the streams in `Io`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace de::cli {

// Exit codes of dectl.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // the operation failed (invalid DAG, run failed, ...)
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitUnreachable = 3;  // the scheduler could not be reached

// Where a command writes, and knobs tests turn.
struct Io {
  std::ostream& out;
  std::ostream& err;
  bool out_is_tty = false;
  // Answers to questions (`dag delete`'s confirmation); null: none can be asked.
  std::istream* in = nullptr;
  bool in_is_tty = false;
  // Colours: only when out is a terminal and NO_COLOR is unset or empty (Main reads it).
  bool no_color = false;
  // How often `trigger --wait` polls the run and `logs -f` polls the log.
  absl::Duration poll_interval = absl::Milliseconds(200);
  // How often `trigger --wait` on a large run prints its summary line when out is not a terminal.
  absl::Duration progress_interval = absl::Seconds(10);
};

// Runs `dectl ARGS...` (args excludes the program name). Reads DE_SERVER / DE_TOKEN from the
// environment for defaults.
int Run(const std::vector<std::string>& args, Io& io);

// Convenience forms over argc/argv (argv[0] is the program name).
int Main(int argc, char** argv, std::ostream& out, std::ostream& err);
int Main(int argc, char** argv);  // std::cout / std::cerr, TTY detection on stdout

}  // namespace de::cli

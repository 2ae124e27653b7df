#pragma once
// Whether standard output is a terminal: Trainer's Progress::automatic draws a bar there and
// prints a line per epoch otherwise. It is nn's one platform call (POSIX isatty), kept in this
// small file so that no public header includes <unistd.h> for it; a port changes only this file.

#include <unistd.h>

namespace descent::nn::detail {

/// Whether standard output is a terminal (POSIX isatty on STDOUT_FILENO).
inline bool stdout_is_terminal() { return isatty(STDOUT_FILENO) != 0; }

}  // namespace descent::nn::detail

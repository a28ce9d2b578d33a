// How a deposed leader comes back as a standby (leadership.h): it starts itself again.
#pragma once

namespace de::ha {

// Restarts this process as it was started (a deposed leader comes back as a standby, with no
// state of its leadership left): closes every descriptor but stdio on exec. Does not return.
[[noreturn]] void RestartSelf(char** argv);

}  // namespace de::ha

// How a scheduler that does not lead (a standby, or one still taking over) refuses changes and
// worker sessions, in one place: server/ha/leadership.cc words its refusals with these, and a
// worker recognises them (nobody there hands out work: worker/lease_keeper.h).
#pragma once

#include <string_view>

namespace de::common {

inline constexpr char kStandbyRefusal[] = "this scheduler is a standby";
inline constexpr char kTakingOverRefusal[] = "this scheduler is taking over as leader";

// Whether `message` (a gRPC status message) is one of those refusals.
inline bool IsNotLeadingRefusal(std::string_view message) {
  return message.find(kStandbyRefusal) != std::string_view::npos ||
         message.find(kTakingOverRefusal) != std::string_view::npos;
}

}  // namespace de::common

// What an audit row says about a request: a short JSON of its fields (strings over 200 bytes
// replaced by their length, fields named like token/secret/password masked), and its DAG.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "google/protobuf/message.h"

namespace de::auth {

std::string AuditArgs(const google::protobuf::Message& request);
// The message's top-level `dag_id` string field, or empty.
std::string DagIdOf(const google::protobuf::Message& message);

}  // namespace de::auth

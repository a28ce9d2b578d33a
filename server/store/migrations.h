// Schema migrations embedded into the binary (migrations/NNNN_name.sql, in name order).
#pragma once
#include <string>
#include <vector>
namespace de::store {
struct Migration {
  std::string name;  // file name, e.g. "0001_init.sql"
  std::string sql;
};
const std::vector<Migration>& EmbeddedMigrations();
}  // namespace de::store

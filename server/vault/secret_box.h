// SecretBox: seals and opens secret values with AES-256-GCM under one 256-bit key read from a key
// file (64 hex characters). Each value gets a fresh random 96-bit nonce, and its name is the
// additional authenticated data, so a sealed row moved to another name does not open. The key's
// id (hex of the first 8 bytes of its SHA-256) is stored with each row, so a replaced key file is
// named as the cause instead of a bare "does not decrypt". Immutable after construction;
// thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace de::vault {

struct Sealed {
  std::string key_id;   // hex
  std::string nonce;    // hex
  std::string sealed;   // hex: ciphertext + tag
};

class SecretBox {
 public:
  // Reads the key from `path`; if the file does not exist, makes a new random key there (mode
  // 0600, created exclusively) and sets *created. A file that is not 64 hex characters (a
  // trailing newline is fine) is an error naming it.
  static absl::StatusOr<SecretBox> OpenKeyFile(const std::string& path, bool* created);
  // A box over raw key bytes (32); for tests.
  static absl::StatusOr<SecretBox> FromKey(absl::string_view key);

  absl::StatusOr<Sealed> Seal(absl::string_view name, absl::string_view plaintext) const;
  // Errors: sealed by another key (FailedPrecondition, naming both ids), damaged or moved
  // (DataLoss).
  absl::StatusOr<std::string> Open(absl::string_view name, const Sealed& s) const;

  const std::string& key_id() const { return key_id_; }

 private:
  SecretBox(std::string key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  std::string key_;     // 32 raw bytes
  std::string key_id_;
};

}  // namespace de::vault

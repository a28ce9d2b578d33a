#include "server/vault/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::vault {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

absl::StatusOr<std::string> FromHex(absl::string_view hex, absl::string_view what) {
  std::string out;
  if (hex.size() % 2 != 0 || !IsHex(hex)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " is not hex"));
  }
  return absl::HexStringToBytes(hex);
}

absl::Status WriteNewKey(const std::string& path) {
  unsigned char key[kKeyBytes];
  if (RAND_bytes(key, sizeof(key)) != 1) return absl::InternalError("cannot get random bytes");
  const std::string text =
      absl::StrCat(absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(key),
                                                            sizeof(key))),
                   "\n");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the secrets key file ", path, ": ", std::strerror(errno)));
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return absl::InternalError(absl::StrCat("cannot write the secrets key file ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromKey(absl::string_view key) {
  if (key.size() != kKeyBytes) return absl::InvalidArgumentError("a secrets key is 32 bytes");
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256(U(key), key.size(), h);
  return SecretBox(std::string(key),
                   absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(h), 8)));
}

absl::StatusOr<SecretBox> SecretBox::OpenKeyFile(const std::string& path, bool* created) {
  *created = false;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read the secrets key file ", path, ": ", std::strerror(errno)));
    }
    DE_RETURN_IF_ERROR(WriteNewKey(path));
    *created = true;
  } else if ((st.st_mode & 077) != 0) {
    spdlog::warn("the secrets key file {} can be read by other users (chmod 600 it)", path);
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the secrets key file ", path));
  }
  const std::string content = text.str();
  absl::string_view hex = absl::StripAsciiWhitespace(content);
  if (hex.size() != 2 * kKeyBytes || !IsHex(hex)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the secrets key file ", path, " must hold 64 hex characters (32 random bytes), e.g. "
        "made by: openssl rand -hex 32 > ", path));
  }
  return FromKey(absl::HexStringToBytes(hex));
}

absl::StatusOr<Sealed> SecretBox::Seal(absl::string_view name, absl::string_view plain) const {
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) return absl::InternalError("cannot get a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(plain.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key_), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(name), static_cast<int>(name.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), o, &len, U(plain), static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), o + len, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + plain.size()) == 1;
  if (!ok) return absl::InternalError("AES-256-GCM encryption failed");
  Sealed s;
  s.key_id = key_id_;
  s.nonce = absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(nonce), kNonceBytes));
  s.sealed = absl::BytesToHexString(out);
  return s;
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view name, const Sealed& s) const {
  if (s.key_id != key_id_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret '", name, "' was sealed with key ", s.key_id, ", but the key file holds key ",
        key_id_, " (was the secrets key file replaced? set the secret again)"));
  }
  DE_ASSIGN_OR_RETURN(std::string nonce, FromHex(s.nonce, "nonce"));
  DE_ASSIGN_OR_RETURN(std::string sealed, FromHex(s.sealed, "secret"));
  if (nonce.size() != kNonceBytes || sealed.size() < kTagBytes) {
    return absl::DataLossError(absl::StrCat("secret '", name, "' is damaged (too short)"));
  }
  const size_t n = sealed.size() - kTagBytes;
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  std::string tag = sealed.substr(n);
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key_), U(nonce)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(name), static_cast<int>(name.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), o, &len, U(sealed), static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), o + len, &fin) == 1;
  if (!ok) {
    return absl::DataLossError(
        absl::StrCat("secret '", name, "' does not decrypt: its stored row is damaged or moved"));
  }
  return out;
}

}  // namespace de::vault

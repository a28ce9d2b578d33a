# Writes OUT: a C++ file defining de::http::EmbeddedWebAssets() from every file under DIR (the
# web page: HTML, CSS, JavaScript), as byte arrays so any content embeds unchanged.
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(arrays "")
set(entries "")
set(n 0)
foreach(rel ${files})
  file(READ ${DIR}/${rel} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  string(APPEND arrays "const unsigned char kAsset${n}[] = {\n${bytes}0};\n")
  string(APPEND entries "      {\"/${rel}\", std::string_view(reinterpret_cast<const char*>(kAsset${n}), ${size})},\n")
  math(EXPR n "${n} + 1")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from server/web/ by cmake/embed_web.cmake. Do not edit.
#include \"server/http/web_assets.h\"
namespace de::http {
namespace {
${arrays}}  // namespace
const std::map<std::string, std::string_view>& EmbeddedWebAssets() {
  static const std::map<std::string, std::string_view> kAssets = {
${entries}  };
  return kAssets;
}
}  // namespace de::http
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)

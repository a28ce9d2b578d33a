# Writes OUT: a C++ file defining de::store::FUNC() from DIR/NNNN_name.sql files.
file(GLOB files ${DIR}/*.sql)
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(name ${f} NAME)
  file(READ ${f} sql)
  string(APPEND body "    {\"${name}\", R\"de_sql(${sql})de_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from ${DIR}/*.sql by cmake/embed_migrations.cmake. Do not edit.
#include \"server/store/migrations.h\"
namespace de::store {
const std::vector<Migration>& ${FUNC}() {
  static const std::vector<Migration> kMigrations = {
${body}  };
  return kMigrations;
}
}  // namespace de::store
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)

#include "server/auth/audit_args.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace de::auth {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr size_t kMaxString = 200;

bool SecretName(const std::string& name) {
  return absl::StrContains(name, "token") || absl::StrContains(name, "secret") ||
         absl::StrContains(name, "password");
}

void Shorten(Message* m) {
  const auto* refl = m->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(*m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(*m, f); ++i) {
          Shorten(refl->MutableRepeatedMessage(m, f, i));
        }
      } else {
        Shorten(refl->MutableMessage(m, f));
      }
      continue;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_STRING || f->is_repeated()) continue;
    std::string v = refl->GetString(*m, f);
    if (SecretName(f->name())) {
      refl->SetString(m, f, "***");
    } else if (v.size() > kMaxString) {
      refl->SetString(m, f, absl::StrCat("[", v.size(), " bytes]"));
    }
  }
}

}  // namespace

std::string AuditArgs(const Message& request) {
  std::unique_ptr<Message> copy(request.New());
  copy->CopyFrom(request);
  Shorten(copy.get());
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*copy, &json, opts).ok()) return "{}";
  return json;
}

std::string DagIdOf(const Message& message) {
  const FieldDescriptor* f = message.GetDescriptor()->FindFieldByName("dag_id");
  if (f == nullptr || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING || f->is_repeated()) {
    return "";
  }
  return message.GetReflection()->GetString(message, f);
}

}  // namespace de::auth

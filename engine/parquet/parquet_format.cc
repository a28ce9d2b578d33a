#include "engine/parquet/parquet_format.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/parquet/thrift_compact.h"

namespace de::engine::parquet {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;
using thrift::FieldHeader;

namespace {

// ---------------------------------------------------------------- writing

void WriteStatistics(const Statistics& s, CompactWriter* w) {
  if (s.max) w->FieldBinary(1, *s.max);
  if (s.min) w->FieldBinary(2, *s.min);
  if (s.null_count) w->FieldI64(3, *s.null_count);
  if (s.distinct_count) w->FieldI64(4, *s.distinct_count);
  if (s.max_value) w->FieldBinary(5, *s.max_value);
  if (s.min_value) w->FieldBinary(6, *s.min_value);
  if (s.nan_count) w->FieldI64(9, *s.nan_count);
}

void WriteTimeUnit(int16_t id, TimeUnit unit, CompactWriter* w) {
  w->FieldStruct(id);
  if (unit != TimeUnit::kNone) {
    w->FieldStruct(static_cast<int16_t>(unit));  // MILLIS=1 MICROS=2 NANOS=3, empty structs
    w->EndStruct();
  }
  w->EndStruct();
}

void WriteLogicalType(const LogicalType& t, CompactWriter* w) {
  w->FieldStruct(static_cast<int16_t>(t.kind));
  switch (t.kind) {
    case LogicalType::kDecimal:
      w->FieldI32(1, t.scale);
      w->FieldI32(2, t.precision);
      break;
    case LogicalType::kTime:
    case LogicalType::kTimestamp:
      w->FieldBool(1, t.is_adjusted_to_utc);
      WriteTimeUnit(2, t.unit, w);
      break;
    case LogicalType::kInteger:
      w->FieldI8(1, static_cast<int8_t>(t.bit_width));
      w->FieldBool(2, t.is_signed);
      break;
    default:
      break;  // empty struct
  }
  w->EndStruct();
}

void WriteSchemaElement(const SchemaElement& e, CompactWriter* w) {
  w->BeginStruct();
  if (e.type) w->FieldI32(1, static_cast<int32_t>(*e.type));
  if (e.type_length) w->FieldI32(2, *e.type_length);
  if (e.repetition_type) w->FieldI32(3, static_cast<int32_t>(*e.repetition_type));
  w->FieldBinary(4, e.name);
  if (e.num_children) w->FieldI32(5, *e.num_children);
  if (e.converted_type) w->FieldI32(6, static_cast<int32_t>(*e.converted_type));
  if (e.scale) w->FieldI32(7, *e.scale);
  if (e.precision) w->FieldI32(8, *e.precision);
  if (e.field_id) w->FieldI32(9, *e.field_id);
  if (e.logical_type.kind != LogicalType::kNone) {
    w->FieldStruct(10);
    WriteLogicalType(e.logical_type, w);
    w->EndStruct();
  }
  w->EndStruct();
}

void WriteKeyValues(int16_t id, const std::vector<KeyValue>& kvs, CompactWriter* w) {
  w->FieldList(id, thrift::kStruct, kvs.size());
  for (const KeyValue& kv : kvs) {
    w->BeginStruct();
    w->FieldBinary(1, kv.key);
    if (kv.value) w->FieldBinary(2, *kv.value);
    w->EndStruct();
  }
}

void WriteColumnMetaData(const ColumnMetaData& m, CompactWriter* w) {
  w->FieldI32(1, static_cast<int32_t>(m.type));
  w->FieldList(2, thrift::kI32, m.encodings.size());
  for (Encoding e : m.encodings) w->ElemI32(static_cast<int32_t>(e));
  w->FieldList(3, thrift::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w->ElemBinary(p);
  w->FieldI32(4, static_cast<int32_t>(m.codec));
  w->FieldI64(5, m.num_values);
  w->FieldI64(6, m.total_uncompressed_size);
  w->FieldI64(7, m.total_compressed_size);
  w->FieldI64(9, m.data_page_offset);
  if (m.index_page_offset) w->FieldI64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w->FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) {
    w->FieldStruct(12);
    WriteStatistics(*m.statistics, w);
    w->EndStruct();
  }
  if (!m.encoding_stats.empty()) {
    w->FieldList(13, thrift::kStruct, m.encoding_stats.size());
    for (const auto& s : m.encoding_stats) {
      w->BeginStruct();
      w->FieldI32(1, static_cast<int32_t>(s.page_type));
      w->FieldI32(2, static_cast<int32_t>(s.encoding));
      w->FieldI32(3, s.count);
      w->EndStruct();
    }
  }
}

void WriteRowGroup(const RowGroup& rg, CompactWriter* w) {
  w->BeginStruct();
  w->FieldList(1, thrift::kStruct, rg.columns.size());
  for (const ColumnChunk& c : rg.columns) {
    w->BeginStruct();
    if (c.file_path) w->FieldBinary(1, *c.file_path);
    w->FieldI64(2, c.file_offset);
    if (c.meta_data) {
      w->FieldStruct(3);
      WriteColumnMetaData(*c.meta_data, w);
      w->EndStruct();
    }
    w->EndStruct();
  }
  w->FieldI64(2, rg.total_byte_size);
  w->FieldI64(3, rg.num_rows);
  if (rg.file_offset) w->FieldI64(5, *rg.file_offset);
  if (rg.total_compressed_size) w->FieldI64(6, *rg.total_compressed_size);
  if (rg.ordinal) {
    w->FieldHeader(7, thrift::kI16);
    w->ElemI32(*rg.ordinal);
  }
  w->EndStruct();
}

// ---------------------------------------------------------------- reading

absl::Status TypeError(const FieldHeader& h, const char* what) {
  return absl::DataLossError(
      absl::StrCat("parquet metadata: field ", h.id, " of ", what, " has unexpected type ", h.type));
}

// Reads an integer-valued field into an int32 (enums, sizes).
absl::Status ReadI32Field(CompactReader& r, const FieldHeader& h, int32_t* v) {
  int64_t x;
  DE_RETURN_IF_ERROR(r.ReadInt(h, &x));
  if (x < INT32_MIN || x > INT32_MAX) return absl::DataLossError("parquet metadata: i32 out of range");
  *v = static_cast<int32_t>(x);
  return absl::OkStatus();
}

template <typename E>
absl::Status ReadEnumField(CompactReader& r, const FieldHeader& h, E* v) {
  int32_t x;
  DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x));
  *v = static_cast<E>(x);
  return absl::OkStatus();
}

absl::Status ReadBinaryField(CompactReader& r, const FieldHeader& h, std::string* v, const char* what) {
  if (h.type != thrift::kBinary) return TypeError(h, what);
  return r.ReadBinary(v);
}

absl::Status ReadBoolField(const FieldHeader& h, bool* v, const char* what) {
  if (h.type != thrift::kBoolTrue && h.type != thrift::kBoolFalse) return TypeError(h, what);
  *v = h.bool_value;
  return absl::OkStatus();
}

// Iterates the fields of a struct, calling fn(header) -> Status for each; fn must consume the value
// (or call r.Skip). Handles struct begin/end.
template <typename Fn>
absl::Status ReadStruct(CompactReader& r, Fn fn) {
  DE_RETURN_IF_ERROR(r.BeginStruct());
  while (true) {
    FieldHeader h;
    DE_RETURN_IF_ERROR(r.ReadFieldHeader(&h));
    if (h.type == thrift::kStop) break;
    DE_RETURN_IF_ERROR(fn(h));
  }
  r.EndStruct();
  return absl::OkStatus();
}

absl::Status ExpectStruct(const FieldHeader& h, const char* what) {
  return h.type == thrift::kStruct ? absl::OkStatus() : TypeError(h, what);
}

template <typename Fn>
absl::Status ReadList(CompactReader& r, const FieldHeader& h, const char* what, Fn elem_fn) {
  if (h.type != thrift::kList && h.type != thrift::kSet) return TypeError(h, what);
  CType elem;
  uint32_t n;
  DE_RETURN_IF_ERROR(r.ReadListHeader(&elem, &n));
  for (uint32_t i = 0; i < n; ++i) DE_RETURN_IF_ERROR(elem_fn(elem));
  return absl::OkStatus();
}

absl::Status ReadStatistics(CompactReader& r, Statistics* s) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    std::string v;
    int64_t x;
    switch (h.id) {
      case 1: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "Statistics")); s->max = std::move(v); break;
      case 2: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "Statistics")); s->min = std::move(v); break;
      case 3: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); s->null_count = x; break;
      case 4: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); s->distinct_count = x; break;
      case 5: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "Statistics")); s->max_value = std::move(v); break;
      case 6: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "Statistics")); s->min_value = std::move(v); break;
      case 9: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); s->nan_count = x; break;
      default: return r.Skip(h.type);
    }
    return absl::OkStatus();
  });
}

absl::Status ReadTimeUnit(CompactReader& r, TimeUnit* unit) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    if (h.id >= 1 && h.id <= 3 && h.type == thrift::kStruct) *unit = static_cast<TimeUnit>(h.id);
    return r.Skip(h.type);
  });
}

absl::Status ReadLogicalType(CompactReader& r, LogicalType* t) {
  return ReadStruct(r, [&](const FieldHeader& union_h) -> absl::Status {
    if (union_h.type != thrift::kStruct) return r.Skip(union_h.type);
    t->kind = union_h.id;
    return ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
      int64_t x;
      switch (t->kind) {
        case LogicalType::kDecimal:
          if (h.id == 1) return ReadI32Field(r, h, &t->scale);
          if (h.id == 2) return ReadI32Field(r, h, &t->precision);
          break;
        case LogicalType::kTime:
        case LogicalType::kTimestamp:
          if (h.id == 1) return ReadBoolField(h, &t->is_adjusted_to_utc, "TimestampType");
          if (h.id == 2 && h.type == thrift::kStruct) return ReadTimeUnit(r, &t->unit);
          break;
        case LogicalType::kInteger:
          if (h.id == 1) {
            DE_RETURN_IF_ERROR(r.ReadInt(h, &x));
            t->bit_width = static_cast<int32_t>(x);
            return absl::OkStatus();
          }
          if (h.id == 2) return ReadBoolField(h, &t->is_signed, "IntType");
          break;
        default:
          break;
      }
      return r.Skip(h.type);
    });
  });
}

absl::Status ReadSchemaElement(CompactReader& r, SchemaElement* e) {
  bool has_name = false;
  DE_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    int32_t x;
    switch (h.id) {
      case 1: { PhysicalType t; DE_RETURN_IF_ERROR(ReadEnumField(r, h, &t)); e->type = t; break; }
      case 2: DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x)); e->type_length = x; break;
      case 3: { Repetition t; DE_RETURN_IF_ERROR(ReadEnumField(r, h, &t)); e->repetition_type = t; break; }
      case 4: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &e->name, "SchemaElement")); has_name = true; break;
      case 5: DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x)); e->num_children = x; break;
      case 6: { ConvertedType t; DE_RETURN_IF_ERROR(ReadEnumField(r, h, &t)); e->converted_type = t; break; }
      case 7: DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x)); e->scale = x; break;
      case 8: DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x)); e->precision = x; break;
      case 9: DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x)); e->field_id = x; break;
      case 10: DE_RETURN_IF_ERROR(ExpectStruct(h, "SchemaElement")); return ReadLogicalType(r, &e->logical_type);
      default: return r.Skip(h.type);
    }
    return absl::OkStatus();
  }));
  if (!has_name) return absl::DataLossError("parquet metadata: schema element without a name");
  return absl::OkStatus();
}

absl::Status ReadKeyValue(CompactReader& r, KeyValue* kv) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    std::string v;
    switch (h.id) {
      case 1: return ReadBinaryField(r, h, &kv->key, "KeyValue");
      case 2: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "KeyValue")); kv->value = std::move(v); return absl::OkStatus();
      default: return r.Skip(h.type);
    }
  });
}

absl::Status ReadColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  uint32_t seen = 0;
  DE_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    if (h.id > 0 && h.id < 32) seen |= 1u << h.id;
    int64_t x;
    switch (h.id) {
      case 1: return ReadEnumField(r, h, &m->type);
      case 2:
        return ReadList(r, h, "ColumnMetaData.encodings", [&](CType et) -> absl::Status {
          int32_t e;
          DE_RETURN_IF_ERROR(r.ReadI32(&e));
          m->encodings.push_back(static_cast<Encoding>(e));
          return absl::OkStatus();
        });
      case 3:
        return ReadList(r, h, "ColumnMetaData.path_in_schema", [&](CType et) -> absl::Status {
          std::string s;
          DE_RETURN_IF_ERROR(r.ReadBinary(&s));
          m->path_in_schema.push_back(std::move(s));
          return absl::OkStatus();
        });
      case 4: return ReadEnumField(r, h, &m->codec);
      case 5: return r.ReadInt(h, &m->num_values);
      case 6: return r.ReadInt(h, &m->total_uncompressed_size);
      case 7: return r.ReadInt(h, &m->total_compressed_size);
      case 9: return r.ReadInt(h, &m->data_page_offset);
      case 10: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); m->index_page_offset = x; return absl::OkStatus();
      case 11: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); m->dictionary_page_offset = x; return absl::OkStatus();
      case 12:
        DE_RETURN_IF_ERROR(ExpectStruct(h, "ColumnMetaData"));
        m->statistics.emplace();
        return ReadStatistics(r, &*m->statistics);
      case 13:
        return ReadList(r, h, "ColumnMetaData.encoding_stats", [&](CType et) -> absl::Status {
          if (et != thrift::kStruct) return absl::DataLossError("parquet metadata: bad encoding stats");
          PageEncodingStats& es = m->encoding_stats.emplace_back();
          return ReadStruct(r, [&](const FieldHeader& f) -> absl::Status {
            switch (f.id) {
              case 1: return ReadEnumField(r, f, &es.page_type);
              case 2: return ReadEnumField(r, f, &es.encoding);
              case 3: return ReadI32Field(r, f, &es.count);
              default: return r.Skip(f.type);
            }
          });
        });
      default: return r.Skip(h.type);
    }
  }));
  const uint32_t required = (1u << 1) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 9);
  if ((seen & required) != required) {
    return absl::DataLossError("parquet metadata: column metadata misses a required field");
  }
  return absl::OkStatus();
}

absl::Status ReadColumnChunk(CompactReader& r, ColumnChunk* c) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    std::string v;
    switch (h.id) {
      case 1: DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "ColumnChunk")); c->file_path = std::move(v); return absl::OkStatus();
      case 2: return r.ReadInt(h, &c->file_offset);
      case 3:
        DE_RETURN_IF_ERROR(ExpectStruct(h, "ColumnChunk"));
        c->meta_data.emplace();
        return ReadColumnMetaData(r, &*c->meta_data);
      default: return r.Skip(h.type);
    }
  });
}

absl::Status ReadRowGroup(CompactReader& r, RowGroup* rg) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    int64_t x;
    switch (h.id) {
      case 1:
        return ReadList(r, h, "RowGroup.columns", [&](CType et) -> absl::Status {
          if (et != thrift::kStruct) return absl::DataLossError("parquet metadata: bad column list");
          rg->columns.emplace_back();
          return ReadColumnChunk(r, &rg->columns.back());
        });
      case 2: return r.ReadInt(h, &rg->total_byte_size);
      case 3: return r.ReadInt(h, &rg->num_rows);
      case 5: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); rg->file_offset = x; return absl::OkStatus();
      case 6: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); rg->total_compressed_size = x; return absl::OkStatus();
      case 7: DE_RETURN_IF_ERROR(r.ReadInt(h, &x)); rg->ordinal = static_cast<int16_t>(x); return absl::OkStatus();
      default: return r.Skip(h.type);
    }
  });
}

}  // namespace

void SerializeStatistics(const Statistics& s, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  WriteStatistics(s, &w);
  w.EndStruct();
}

void SerializePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.FieldI32(1, static_cast<int32_t>(h.type));
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.crc) w.FieldI32(4, *h.crc);
  if (h.data_page_header) {
    const DataPageHeader& d = *h.data_page_header;
    w.FieldStruct(5);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    w.FieldI32(3, static_cast<int32_t>(d.definition_level_encoding));
    w.FieldI32(4, static_cast<int32_t>(d.repetition_level_encoding));
    if (d.statistics) {
      w.FieldStruct(5);
      WriteStatistics(*d.statistics, &w);
      w.EndStruct();
    }
    w.EndStruct();
  }
  if (h.dictionary_page_header) {
    const DictionaryPageHeader& d = *h.dictionary_page_header;
    w.FieldStruct(7);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    if (d.is_sorted) w.FieldBool(3, *d.is_sorted);
    w.EndStruct();
  }
  if (h.data_page_header_v2) {
    const DataPageHeaderV2& d = *h.data_page_header_v2;
    w.FieldStruct(8);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, static_cast<int32_t>(d.encoding));
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    if (d.statistics) {
      w.FieldStruct(8);
      WriteStatistics(*d.statistics, &w);
      w.EndStruct();
    }
    w.EndStruct();
  }
  w.EndStruct();
}

void SerializeFileMetaData(const FileMetaData& m, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.FieldI32(1, m.version);
  w.FieldList(2, thrift::kStruct, m.schema.size());
  for (const SchemaElement& e : m.schema) WriteSchemaElement(e, &w);
  w.FieldI64(3, m.num_rows);
  w.FieldList(4, thrift::kStruct, m.row_groups.size());
  for (const RowGroup& rg : m.row_groups) WriteRowGroup(rg, &w);
  if (!m.key_value_metadata.empty()) WriteKeyValues(5, m.key_value_metadata, &w);
  if (m.created_by) w.FieldBinary(6, *m.created_by);
  if (m.num_column_orders > 0) {
    w.FieldList(7, thrift::kStruct, m.num_column_orders);
    for (int i = 0; i < m.num_column_orders; ++i) {
      w.BeginStruct();
      w.FieldStruct(1);  // TYPE_ORDER (empty struct)
      w.EndStruct();
      w.EndStruct();
    }
  }
  w.EndStruct();
}

absl::Status ParsePageHeader(const void* data, size_t size, PageHeader* ph, size_t* consumed) {
  CompactReader r(data, size);
  uint32_t seen = 0;
  DE_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    if (h.id > 0 && h.id < 32) seen |= 1u << h.id;
    int32_t x;
    switch (h.id) {
      case 1: return ReadEnumField(r, h, &ph->type);
      case 2: return ReadI32Field(r, h, &ph->uncompressed_page_size);
      case 3: return ReadI32Field(r, h, &ph->compressed_page_size);
      case 4: DE_RETURN_IF_ERROR(ReadI32Field(r, h, &x)); ph->crc = x; return absl::OkStatus();
      case 5: {
        DE_RETURN_IF_ERROR(ExpectStruct(h, "PageHeader"));
        DataPageHeader& d = ph->data_page_header.emplace();
        return ReadStruct(r, [&](const FieldHeader& f) -> absl::Status {
          switch (f.id) {
            case 1: return ReadI32Field(r, f, &d.num_values);
            case 2: return ReadEnumField(r, f, &d.encoding);
            case 3: return ReadEnumField(r, f, &d.definition_level_encoding);
            case 4: return ReadEnumField(r, f, &d.repetition_level_encoding);
            case 5:
              DE_RETURN_IF_ERROR(ExpectStruct(f, "DataPageHeader"));
              d.statistics.emplace();
              return ReadStatistics(r, &*d.statistics);
            default: return r.Skip(f.type);
          }
        });
      }
      case 7: {
        DE_RETURN_IF_ERROR(ExpectStruct(h, "PageHeader"));
        DictionaryPageHeader& d = ph->dictionary_page_header.emplace();
        return ReadStruct(r, [&](const FieldHeader& f) -> absl::Status {
          bool b = false;
          switch (f.id) {
            case 1: return ReadI32Field(r, f, &d.num_values);
            case 2: return ReadEnumField(r, f, &d.encoding);
            case 3: DE_RETURN_IF_ERROR(ReadBoolField(f, &b, "DictionaryPageHeader")); d.is_sorted = b; return absl::OkStatus();
            default: return r.Skip(f.type);
          }
        });
      }
      case 8: {
        DE_RETURN_IF_ERROR(ExpectStruct(h, "PageHeader"));
        DataPageHeaderV2& d = ph->data_page_header_v2.emplace();
        return ReadStruct(r, [&](const FieldHeader& f) -> absl::Status {
          switch (f.id) {
            case 1: return ReadI32Field(r, f, &d.num_values);
            case 2: return ReadI32Field(r, f, &d.num_nulls);
            case 3: return ReadI32Field(r, f, &d.num_rows);
            case 4: return ReadEnumField(r, f, &d.encoding);
            case 5: return ReadI32Field(r, f, &d.definition_levels_byte_length);
            case 6: return ReadI32Field(r, f, &d.repetition_levels_byte_length);
            case 7: return ReadBoolField(f, &d.is_compressed, "DataPageHeaderV2");
            case 8:
              DE_RETURN_IF_ERROR(ExpectStruct(f, "DataPageHeaderV2"));
              d.statistics.emplace();
              return ReadStatistics(r, &*d.statistics);
            default: return r.Skip(f.type);
          }
        });
      }
      default: return r.Skip(h.type);
    }
  }));
  const uint32_t required = (1u << 1) | (1u << 2) | (1u << 3);
  if ((seen & required) != required) return absl::DataLossError("parquet: page header misses a required field");
  if (ph->uncompressed_page_size < 0 || ph->compressed_page_size < 0) {
    return absl::DataLossError("parquet: negative page size");
  }
  *consumed = r.consumed();
  return absl::OkStatus();
}

absl::Status ParseFileMetaData(const void* data, size_t size, FileMetaData* m) {
  CompactReader r(data, size);
  uint32_t seen = 0;
  DE_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::Status {
    if (h.id > 0 && h.id < 32) seen |= 1u << h.id;
    switch (h.id) {
      case 1: return ReadI32Field(r, h, &m->version);
      case 2:
        return ReadList(r, h, "FileMetaData.schema", [&](CType et) -> absl::Status {
          if (et != thrift::kStruct) return absl::DataLossError("parquet metadata: bad schema list");
          m->schema.emplace_back();
          return ReadSchemaElement(r, &m->schema.back());
        });
      case 3: return r.ReadInt(h, &m->num_rows);
      case 4:
        return ReadList(r, h, "FileMetaData.row_groups", [&](CType et) -> absl::Status {
          if (et != thrift::kStruct) return absl::DataLossError("parquet metadata: bad row group list");
          m->row_groups.emplace_back();
          return ReadRowGroup(r, &m->row_groups.back());
        });
      case 5:
        return ReadList(r, h, "FileMetaData.key_value_metadata", [&](CType et) -> absl::Status {
          if (et != thrift::kStruct) return absl::DataLossError("parquet metadata: bad key/value list");
          m->key_value_metadata.emplace_back();
          return ReadKeyValue(r, &m->key_value_metadata.back());
        });
      case 6: {
        std::string v;
        DE_RETURN_IF_ERROR(ReadBinaryField(r, h, &v, "FileMetaData"));
        m->created_by = std::move(v);
        return absl::OkStatus();
      }
      case 7:
        return ReadList(r, h, "FileMetaData.column_orders", [&](CType et) -> absl::Status {
          ++m->num_column_orders;
          return r.Skip(et);
        });
      default: return r.Skip(h.type);
    }
  }));
  const uint32_t required = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4);
  if ((seen & required) != required) return absl::DataLossError("parquet: file metadata misses a required field");
  return absl::OkStatus();
}

}  // namespace de::engine::parquet

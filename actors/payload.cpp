#include "actors/payload.hpp"

#include <msgpack.hpp>
#include <simdjson.h>

#include "actors/json_text.hpp"
#include "actors/msgpack_out.hpp"
#include "actors/payload_convert.hpp"

namespace plexus::actors {

namespace {

// Payloads from clients were validated by the codec (nesting <= 32); these looser bounds
// only keep a hand-built payload (embedding API, cluster) from recursing without limit.
constexpr std::size_t max_payload_depth = 128;

using packer = msgpack::packer<string_sink>;

simdjson::dom::parser make_json_parser() {
  simdjson::dom::parser parser;
  // Fails only out of memory; the first parse then allocates again, with simdjson's
  // default depth bound (1024), which the recursive packer below also handles.
  auto err = parser.allocate(4096, max_payload_depth + 1);
  static_cast<void>(err);
  return parser;
}

/// One parser per thread: the DOM parser reuses its buffers, and is not thread-safe.
simdjson::dom::parser& json_parser() {
  thread_local simdjson::dom::parser parser = make_json_parser();
  return parser;
}

void pack_json_element(std::string& out, packer& pk, simdjson::dom::element el) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array arr = el.get_array().value_unsafe();
      pk.pack_array(static_cast<uint32_t>(arr.size()));
      for (simdjson::dom::element item : arr) {
        pack_json_element(out, pk, item);
      }
      return;
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj = el.get_object().value_unsafe();
      pk.pack_map(static_cast<uint32_t>(obj.size()));
      for (simdjson::dom::key_value_pair kv : obj) {
        pk.pack_str(static_cast<uint32_t>(kv.key.size()));
        pk.pack_str_body(kv.key.data(), static_cast<uint32_t>(kv.key.size()));
        pack_json_element(out, pk, kv.value);
      }
      return;
    }
    case element_type::INT64:
      pk.pack(el.get_int64().value_unsafe());
      return;
    case element_type::UINT64:
      pk.pack(el.get_uint64().value_unsafe());
      return;
    case element_type::DOUBLE:
      append_msgpack_float64(out, el.get_double().value_unsafe());
      return;
    case element_type::STRING: {
      std::string_view s = el.get_string().value_unsafe();
      pk.pack_str(static_cast<uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
      return;
    }
    case element_type::BOOL:
      if (el.get_bool().value_unsafe()) {
        pk.pack_true();
      } else {
        pk.pack_false();
      }
      return;
    case element_type::NULL_VALUE:
      pk.pack_nil();
      return;
  }
  pk.pack_nil();
}

/// Writes `o` as JSON. `in_key`: `out` is the JSON text of a map key that is an array or a
/// map (it is escaped into a string afterwards).
void write_msgpack_as_json(std::string& out, const msgpack::object& o, bool in_key = false) {
  switch (o.type) {
    case msgpack::type::NIL:
      out += "null";
      return;
    case msgpack::type::BOOLEAN:
      out += o.via.boolean ? "true" : "false";
      return;
    case msgpack::type::POSITIVE_INTEGER:
      append_json_uint(out, o.via.u64);
      return;
    case msgpack::type::NEGATIVE_INTEGER:
      append_json_int(out, o.via.i64);
      return;
    case msgpack::type::FLOAT32:
      append_json_float(out, static_cast<float>(o.via.f64));
      return;
    case msgpack::type::FLOAT64:
      append_json_double(out, o.via.f64);
      return;
    case msgpack::type::STR:
      append_json_string(out, std::string_view(o.via.str.ptr, o.via.str.size));
      return;
    case msgpack::type::BIN:
      out.push_back('"');
      append_base64(out, std::string_view(o.via.bin.ptr, o.via.bin.size));
      out.push_back('"');
      return;
    case msgpack::type::ARRAY:
      out.push_back('[');
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i > 0) {
          out.push_back(',');
        }
        write_msgpack_as_json(out, o.via.array.ptr[i], in_key);
      }
      out.push_back(']');
      return;
    case msgpack::type::MAP:
      out.push_back('{');
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (i > 0) {
          out.push_back(',');
        }
        bool container = kv.key.type == msgpack::type::ARRAY || kv.key.type == msgpack::type::MAP;
        if (kv.key.type == msgpack::type::STR) {
          append_json_string(out, std::string_view(kv.key.via.str.ptr, kv.key.via.str.size));
        } else if (in_key && container) {
          // An array or map key inside such a key: its text would be escaped once per
          // level, doubling the output each time (a 2 KiB frame nesting 30 of them asked
          // for gigabytes). One level of container keys is written; deeper ones are not.
          out += "\"null\"";
        } else {
          // JSON keys are strings: a key like 1 or [1,2] becomes "1" / "[1,2]".
          std::string key;
          write_msgpack_as_json(key, kv.key, in_key || container);
          append_json_string(out, key);
        }
        out.push_back(':');
        write_msgpack_as_json(out, kv.val, in_key);
      }
      out.push_back('}');
      return;
    case msgpack::type::EXT:
      out += "null";
      return;
  }
  out += "null";
}

bool reference_input(msgpack::type::object_type, std::size_t, void*) {
  return true; // the input outlives the unpacked object: no copies of strings
}

void append_msgpack_as_json(std::string& out, std::string_view bytes) {
  const std::size_t mark = out.size();
  try {
    std::size_t n = bytes.size();
    msgpack::unpack_limit limit(n, n / 2, n, n, n, max_payload_depth);
    std::size_t off = 0;
    msgpack::object_handle oh
      = msgpack::unpack(bytes.data(), n, off, reference_input, nullptr, limit);
    write_msgpack_as_json(out, oh.get());
    return;
  } catch (...) {
    // Only a payload that did not come through the codec can get here.
  }
  out.resize(mark);
  out += "null";
}

void append_json_as_msgpack(std::string& out, std::string_view text) {
  const std::size_t mark = out.size();
  simdjson::dom::element root;
  if (!text.empty()
      && json_parser().parse(text.data(), text.size()).get(root) == simdjson::SUCCESS) {
    string_sink sink(out);
    packer pk(sink);
    pack_json_element(out, pk, root);
    return;
  }
  out.resize(mark);
  out.push_back(static_cast<char>(0xC0)); // nil
}

} // namespace

void append_json(std::string& out, const payload& p) {
  if (p.format == wire_format::json) {
    out += p.bytes;
  } else {
    append_msgpack_as_json(out, p.bytes);
  }
}

void append_msgpack(std::string& out, const payload& p) {
  if (p.format == wire_format::msgpack) {
    out += p.bytes;
  } else {
    append_json_as_msgpack(out, p.bytes);
  }
}

void append_as(std::string& out, const payload& p, wire_format f) {
  if (f == wire_format::json) {
    append_json(out, p);
  } else {
    append_msgpack(out, p);
  }
}

std::string to_json(const payload& p) {
  if (p.format == wire_format::json) {
    return p.bytes;
  }
  std::string out;
  out.reserve(p.bytes.size() + p.bytes.size() / 2 + 8);
  append_msgpack_as_json(out, p.bytes);
  return out;
}

std::string to_msgpack(const payload& p) {
  if (p.format == wire_format::msgpack) {
    return p.bytes;
  }
  std::string out;
  out.reserve(p.bytes.size());
  append_json_as_msgpack(out, p.bytes);
  return out;
}

std::string encode_as(const payload& p, wire_format f) {
  return f == wire_format::json ? to_json(p) : to_msgpack(p);
}

} // namespace plexus::actors

#include "actors/codec.hpp"

#include <limits>
#include <utility>

#include <msgpack.hpp>
#include <simdjson.h>

#include "actors/channel_name.hpp"
#include "actors/msgpack_out.hpp"

namespace plexus::actors {

namespace {

/// Deepest nesting of arrays/maps in a frame, the frame's own map included. Both decoders
/// apply the same bound, so a frame is accepted or refused alike in either format.
constexpr std::size_t max_nesting_depth = 32;

// ---------------------------------------------------------------------------------------
// A format-neutral view of one field, so the rules below are written once for both formats.

enum class kind : uint8_t {
  missing,
  null,
  boolean,
  integer,      // fits int64
  big_unsigned, // above INT64_MAX, fits uint64
  floating,
  string,
  array,
  map,
  other, // msgpack bin / ext
};

struct field {
  kind k = kind::missing;
  int64_t i = 0;      // kind::integer
  uint64_t u = 0;     // kind::big_unsigned
  std::string_view s; // kind::string; points into the frame being decoded
};

decode_error make_error(errc code, std::string message, std::optional<int64_t> id) {
  decode_error e;
  e.code = code;
  e.message = std::move(message);
  e.id = id;
  return e;
}

/// A short, printable echo of the client's `type` for the unknown_type message, or "" when
/// the value is too long or has characters that would not read well on one line.
std::string_view printable_type(std::string_view type) {
  if (type.size() > 32) {
    return {};
  }
  for (char c : type) {
    if (c < 0x20 || c > 0x7E || c == '\'') {
      return {};
    }
  }
  return type;
}

/// Reads and checks the fields of one frame. `Frame` is `json_frame` or `msgpack_frame`:
///   field get(std::string_view key) const;        // first occurrence of the key
///   payload value(std::string_view key) const;    // the present field's value, re-encoded
template <class Frame>
class field_reader {
public:
  field_reader(const Frame& frame, std::optional<int64_t> id) : frame_(frame), id_(id) {
  }

  bool fail(errc code, std::string message) {
    error_ = make_error(code, std::move(message), id_);
    return false;
  }

  decode_error take_error() {
    return std::move(error_);
  }

  /// A required `channel` that is a string and a valid channel name.
  bool channel(std::string& out) {
    std::string_view s;
    if (!required_string("channel", s)) {
      return false;
    }
    if (!valid_channel_name(s)) {
      return fail(errc::invalid_channel,
                  "field 'channel' must be 1-128 characters of A-Z a-z 0-9 _ - . : @ /");
    }
    out.assign(s);
    return true;
  }

  bool required_string(const char* key, std::string_view& out) {
    field f = frame_.get(key);
    if (f.k == kind::missing) {
      return fail(errc::bad_request, std::string("missing field '") + key + "'");
    }
    if (f.k != kind::string) {
      return fail(errc::bad_request, std::string("field '") + key + "' must be a string");
    }
    out = f.s;
    return true;
  }

  bool optional_string(const char* key, std::optional<std::string>& out) {
    field f = frame_.get(key);
    if (f.k == kind::missing) {
      return true;
    }
    if (f.k != kind::string) {
      return fail(errc::bad_request, std::string("field '") + key + "' must be a string");
    }
    out.emplace(f.s);
    return true;
  }

  bool optional_offset(const char* key, std::optional<uint64_t>& out) {
    field f = frame_.get(key);
    if (f.k == kind::missing) {
      return true;
    }
    if (f.k == kind::integer && f.i >= 0) {
      out = static_cast<uint64_t>(f.i);
      return true;
    }
    if (f.k == kind::big_unsigned) {
      out = f.u;
      return true;
    }
    return fail(errc::bad_request,
                std::string("field '") + key + "' must be a non-negative integer");
  }

  /// Any value, required; kept in the frame's own encoding.
  bool required_value(const char* key, payload& out) {
    if (frame_.get(key).k == kind::missing) {
      return fail(errc::bad_request, std::string("missing field '") + key + "'");
    }
    out = frame_.value(key);
    return true;
  }

  bool optional_value(const char* key, std::size_t max_bytes, std::optional<payload>& out) {
    if (frame_.get(key).k == kind::missing) {
      return true;
    }
    payload p = frame_.value(key);
    if (p.bytes.size() > max_bytes) {
      return fail(errc::bad_request, std::string("field '") + key + "' must encode to at most "
                                       + std::to_string(max_bytes) + " bytes");
    }
    out = std::move(p);
    return true;
  }

private:
  const Frame& frame_;
  std::optional<int64_t> id_;
  decode_error error_;
};

template <class Frame>
decode_result decode_fields(const Frame& frame) {
  client_message msg;
  field id = frame.get("id");
  if (id.k != kind::missing) {
    if (id.k != kind::integer) {
      // No id on this error: the client cannot match a reply to an id it did not send.
      return make_error(errc::bad_request, "field 'id' must be an integer", std::nullopt);
    }
    msg.id = id.i;
  }
  field_reader<Frame> r(frame, msg.id);
  std::string_view type;
  if (!r.required_string("type", type)) {
    return r.take_error();
  }
  if (type == "subscribe") {
    subscribe_request req;
    if (!r.channel(req.channel) || !r.optional_offset("since", req.since)
        || !r.optional_string("epoch", req.epoch)) {
      return r.take_error();
    }
    if (req.since && !req.epoch) {
      r.fail(errc::bad_request, "field 'since' needs field 'epoch'");
      return r.take_error();
    }
    msg.body = std::move(req);
  } else if (type == "unsubscribe") {
    unsubscribe_request req;
    if (!r.channel(req.channel)) {
      return r.take_error();
    }
    msg.body = std::move(req);
  } else if (type == "publish") {
    publish_request req;
    if (!r.channel(req.channel) || !r.required_value("data", req.data)) {
      return r.take_error();
    }
    msg.body = std::move(req);
  } else if (type == "presence") {
    presence_request req;
    if (!r.channel(req.channel)) {
      return r.take_error();
    }
    msg.body = std::move(req);
  } else if (type == "status") {
    status_request req;
    std::string_view status;
    if (!r.required_string("status", status)) {
      return r.take_error();
    }
    if (status.empty() || status.size() > max_status_length) {
      r.fail(errc::bad_request,
             "field 'status' must be 1-" + std::to_string(max_status_length) + " bytes long");
      return r.take_error();
    }
    req.status.assign(status);
    if (!r.optional_value("meta", max_meta_bytes, req.meta)) {
      return r.take_error();
    }
    msg.body = std::move(req);
  } else if (type == "ping") {
    msg.body = ping_request{};
  } else if (type == "refresh") {
    refresh_request req;
    std::string_view token;
    if (!r.required_string("token", token)) {
      return r.take_error();
    }
    if (token.empty()) {
      r.fail(errc::bad_request, "field 'token' must be a non-empty string");
      return r.take_error();
    }
    req.token.assign(token);
    msg.body = std::move(req);
  } else {
    auto shown = printable_type(type);
    r.fail(errc::unknown_type, shown.empty() ? std::string("unknown type")
                                             : "unknown type '" + std::string(shown) + "'");
    return r.take_error();
  }
  return msg;
}

// ---------------------------------------------------------------------------------------
// JSON

class json_frame {
public:
  explicit json_frame(simdjson::dom::object obj) : obj_(obj) {
  }

  field get(std::string_view key) const {
    using simdjson::dom::element_type;
    field f;
    simdjson::dom::element el;
    if (obj_.at_key(key).get(el) != simdjson::SUCCESS) {
      return f;
    }
    switch (el.type()) {
      case element_type::INT64:
        f.k = kind::integer;
        f.i = el.get_int64().value_unsafe();
        break;
      case element_type::UINT64:
        f.k = kind::big_unsigned;
        f.u = el.get_uint64().value_unsafe();
        break;
      case element_type::DOUBLE:
        f.k = kind::floating;
        break;
      case element_type::STRING:
        f.k = kind::string;
        f.s = el.get_string().value_unsafe();
        break;
      case element_type::BOOL:
        f.k = kind::boolean;
        break;
      case element_type::NULL_VALUE:
        f.k = kind::null;
        break;
      case element_type::ARRAY:
        f.k = kind::array;
        break;
      case element_type::OBJECT:
        f.k = kind::map;
        break;
    }
    return f;
  }

  payload value(std::string_view key) const {
    payload p;
    p.format = wire_format::json;
    simdjson::dom::element el;
    if (obj_.at_key(key).get(el) == simdjson::SUCCESS) {
      p.bytes = simdjson::minify(el);
    }
    return p;
  }

private:
  simdjson::dom::object obj_;
};

simdjson::dom::parser make_json_parser() {
  simdjson::dom::parser parser;
  // simdjson counts the root as a level: depth N + 1 admits N nested containers. Fails only
  // out of memory; the first parse then allocates again with the default bound (1024).
  auto err = parser.allocate(4096, max_nesting_depth + 1);
  static_cast<void>(err);
  return parser;
}

decode_result decode_json(std::string_view bytes) {
  if (bytes.empty()) {
    return make_error(errc::bad_request, "malformed JSON: empty frame", std::nullopt);
  }
  // One parser per thread: it keeps its buffers (including the padded copy of the input
  // that simdjson needs) between frames, and a parser must not be shared across threads.
  thread_local simdjson::dom::parser parser = make_json_parser();
  simdjson::dom::element root;
  if (auto err = parser.parse(bytes.data(), bytes.size()).get(root)) {
    return make_error(errc::bad_request,
                      std::string("malformed JSON: ") + simdjson::error_message(err), std::nullopt);
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return make_error(errc::bad_request, "frame must be a JSON object", std::nullopt);
  }
  return decode_fields(json_frame(obj));
}

// ---------------------------------------------------------------------------------------
// msgpack

/// A first pass over the bytes that allocates nothing: checks nesting depth and UTF-8 of
/// every str, and that no array/map header declares more items than the frame could hold
/// (each item takes at least one byte). msgpack::unpack allocates a container's items up
/// front from its header, so without this a 5-byte frame could ask for gigabytes.
class msgpack_precheck : public msgpack::null_visitor {
public:
  explicit msgpack_precheck(std::size_t frame_size) : budget_(frame_size) {
  }

  const char* problem() const {
    return problem_;
  }

  bool visit_str(const char* v, uint32_t size) {
    if (!simdjson::validate_utf8(v, size)) {
      return stop("a string is not valid UTF-8");
    }
    return true;
  }
  bool start_array(uint32_t n) {
    return open(n);
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool start_map(uint32_t n) {
    return open(uint64_t{n} * 2);
  }
  bool end_map() {
    --depth_;
    return true;
  }
  void parse_error(std::size_t, std::size_t) {
    problem_ = "invalid encoding";
  }
  void insufficient_bytes(std::size_t, std::size_t) {
    problem_ = "truncated frame";
  }

private:
  bool open(uint64_t items) {
    // An empty container nests nothing: simdjson does not count it either.
    if (++depth_ > max_nesting_depth && items > 0) {
      return stop("nested deeper than 32 levels");
    }
    if (items > budget_) {
      return stop("a container declares more items than the frame holds");
    }
    budget_ -= items;
    return true;
  }

  bool stop(const char* why) {
    problem_ = why;
    return false;
  }

  uint64_t budget_;
  std::size_t depth_ = 0;
  const char* problem_ = "invalid encoding";
};

/// Packs `o` as msgpack-c's packer would, except that floats keep the float format (the
/// packer turns integral floats such as 3.0 into integers). Nesting is bounded by the
/// precheck.
void repack(std::string& out, msgpack::packer<string_sink>& pk, const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
      append_msgpack_float32(out, static_cast<float>(o.via.f64));
      return;
    case msgpack::type::FLOAT64:
      append_msgpack_float64(out, o.via.f64);
      return;
    case msgpack::type::ARRAY:
      pk.pack_array(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        repack(out, pk, o.via.array.ptr[i]);
      }
      return;
    case msgpack::type::MAP:
      pk.pack_map(o.via.map.size);
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        repack(out, pk, o.via.map.ptr[i].key);
        repack(out, pk, o.via.map.ptr[i].val);
      }
      return;
    default:
      pk.pack(o); // nil, bool, integers, str, bin, ext: packed as they are
      return;
  }
}

class msgpack_frame {
public:
  explicit msgpack_frame(const msgpack::object_map& map) : map_(map) {
  }

  field get(std::string_view key) const {
    field f;
    const msgpack::object* o = find(key);
    if (o == nullptr) {
      return f;
    }
    switch (o->type) {
      case msgpack::type::POSITIVE_INTEGER:
        if (o->via.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          f.k = kind::integer;
          f.i = static_cast<int64_t>(o->via.u64);
        } else {
          f.k = kind::big_unsigned;
          f.u = o->via.u64;
        }
        break;
      case msgpack::type::NEGATIVE_INTEGER:
        f.k = kind::integer;
        f.i = o->via.i64;
        break;
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64:
        f.k = kind::floating;
        break;
      case msgpack::type::STR:
        f.k = kind::string;
        f.s = std::string_view(o->via.str.ptr, o->via.str.size);
        break;
      case msgpack::type::BOOLEAN:
        f.k = kind::boolean;
        break;
      case msgpack::type::NIL:
        f.k = kind::null;
        break;
      case msgpack::type::ARRAY:
        f.k = kind::array;
        break;
      case msgpack::type::MAP:
        f.k = kind::map;
        break;
      default:
        f.k = kind::other;
        break;
    }
    return f;
  }

  payload value(std::string_view key) const {
    payload p;
    p.format = wire_format::msgpack;
    p.bytes.clear();
    if (const msgpack::object* o = find(key)) {
      string_sink sink(p.bytes);
      msgpack::packer<string_sink> pk(sink);
      repack(p.bytes, pk, *o);
    }
    return p;
  }

private:
  const msgpack::object* find(std::string_view key) const {
    for (uint32_t i = 0; i < map_.size; ++i) {
      const msgpack::object_kv& kv = map_.ptr[i];
      if (kv.key.type == msgpack::type::STR
          && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
        return &kv.val;
      }
    }
    return nullptr;
  }

  const msgpack::object_map& map_;
};

bool reference_input(msgpack::type::object_type, std::size_t, void*) {
  return true; // the input outlives the unpacked object: strings are not copied
}

decode_result decode_msgpack(std::string_view bytes) {
  if (bytes.empty()) {
    return make_error(errc::bad_request, "malformed msgpack: empty frame", std::nullopt);
  }
  msgpack_precheck check(bytes.size());
  std::size_t off = 0;
  if (!msgpack::parse(bytes.data(), bytes.size(), off, check)) {
    return make_error(errc::bad_request, std::string("malformed msgpack: ") + check.problem(),
                      std::nullopt);
  }
  if (off != bytes.size()) {
    return make_error(errc::bad_request, "malformed msgpack: trailing bytes after the frame",
                      std::nullopt);
  }
  // The precheck already enforces these; the limits are a second line of defence.
  std::size_t n = bytes.size();
  msgpack::unpack_limit limit(n, n / 2, n, n, n, max_nesting_depth + 1);
  off = 0;
  msgpack::object_handle oh
    = msgpack::unpack(bytes.data(), bytes.size(), off, reference_input, nullptr, limit);
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP) {
    return make_error(errc::bad_request, "frame must be a msgpack map", std::nullopt);
  }
  return decode_fields(msgpack_frame(root.via.map));
}

} // namespace

decode_result decode_client_frame(wire_format f, std::string_view bytes) {
  try {
    return f == wire_format::json ? decode_json(bytes) : decode_msgpack(bytes);
  } catch (const std::bad_alloc&) {
    return make_error(errc::internal, "out of memory while decoding the frame", std::nullopt);
  } catch (...) {
    // msgpack-c reports malformed input by throwing; the precheck should catch it first.
    return make_error(errc::bad_request,
                      f == wire_format::json ? "malformed JSON" : "malformed msgpack",
                      std::nullopt);
  }
}

} // namespace plexus::actors

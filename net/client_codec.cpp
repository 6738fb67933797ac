#include "net/client_codec.hpp"

#include <limits>
#include <utility>

#include <msgpack.hpp>
#include <simdjson.h>

#include "actors/json_text.hpp"
#include "actors/msgpack_out.hpp"
#include "actors/payload_convert.hpp"

namespace plexus::net {

namespace {

/// Deepest nesting accepted in a server frame; generous, it only stops runaway input.
constexpr std::size_t max_depth = 128;

// -- writers: one request is written once, by a template over the writer -------------

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {
    out_.push_back('{');
  }
  void finish() {
    out_.push_back('}');
  }
  void key(std::string_view k) {
    if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
    out_.push_back('"');
    out_ += k; // our own field names: nothing to escape
    out_ += "\":";
  }
  void str(std::string_view s) {
    actors::append_json_string(out_, s);
  }
  void i64(int64_t v) {
    actors::append_json_int(out_, v);
  }
  void u64(uint64_t v) {
    actors::append_json_uint(out_, v);
  }
  void value(const payload& p) {
    actors::append_json(out_, p);
  }

private:
  std::string& out_;
  bool first_ = true;
};

class msgpack_writer {
public:
  msgpack_writer(std::string& out, std::size_t fields) : out_(out), sink_(out), pk_(sink_) {
    pk_.pack_map(static_cast<uint32_t>(fields));
  }
  void finish() {
  }
  void key(std::string_view k) {
    str(k);
  }
  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void i64(int64_t v) {
    pk_.pack_int64(v);
  }
  void u64(uint64_t v) {
    pk_.pack_uint64(v);
  }
  void value(const payload& p) {
    actors::append_msgpack(out_, p);
  }

private:
  std::string& out_;
  actors::string_sink sink_;
  msgpack::packer<actors::string_sink> pk_;
};

/// Writes a request of `fields` fields (type included) with `write(w)` in format `f`.
template <class Write>
std::string build(wire_format f, std::size_t fields, Write&& write) {
  std::string out;
  out.reserve(64);
  if (f == wire_format::json) {
    json_writer w(out);
    write(w);
    w.finish();
  } else {
    msgpack_writer w(out, fields);
    write(w);
    w.finish();
  }
  return out;
}

template <class W>
void head(W& w, std::string_view type, std::optional<int64_t> id) {
  w.key("type");
  w.str(type);
  if (id) {
    w.key("id");
    w.i64(*id);
  }
}

// -- readers: a format-neutral view of one map, so the decoder is written once ---------

class json_view {
public:
  explicit json_view(simdjson::dom::object obj) : obj_(obj) {
  }

  std::optional<std::string_view> str(std::string_view key) const {
    std::string_view s;
    if (obj_.at_key(key).get_string().get(s) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return s;
  }
  std::optional<uint64_t> u64(std::string_view key) const {
    uint64_t v = 0;
    if (obj_.at_key(key).get_uint64().get(v) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return v;
  }
  std::optional<int64_t> i64(std::string_view key) const {
    int64_t v = 0;
    if (obj_.at_key(key).get_int64().get(v) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return v;
  }
  std::optional<bool> boolean(std::string_view key) const {
    bool v = false;
    if (obj_.at_key(key).get_bool().get(v) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return v;
  }
  /// The field's value as compact JSON; nullopt when absent (or null, if `null_is_absent`).
  std::optional<payload> value(std::string_view key, bool null_is_absent) const {
    simdjson::dom::element el;
    if (obj_.at_key(key).get(el) != simdjson::SUCCESS || (null_is_absent && el.is_null())) {
      return std::nullopt;
    }
    return payload{wire_format::json, simdjson::minify(el)};
  }
  /// Calls `f(json_view)` for every object in the array field `key`.
  template <class F>
  void each_object(std::string_view key, F&& f) const {
    simdjson::dom::array arr;
    if (obj_.at_key(key).get_array().get(arr) != simdjson::SUCCESS) {
      return;
    }
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      if (el.get_object().get(o) == simdjson::SUCCESS) {
        f(json_view(o));
      }
    }
  }

private:
  simdjson::dom::object obj_;
};

/// Packs `o` again, keeping floats in the float format (msgpack-c's packer would turn an
/// integral 3.0 into the integer 3).
void repack(std::string& out, msgpack::packer<actors::string_sink>& pk, const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
      actors::append_msgpack_float32(out, static_cast<float>(o.via.f64));
      return;
    case msgpack::type::FLOAT64:
      actors::append_msgpack_float64(out, o.via.f64);
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
      pk.pack(o);
      return;
  }
}

class msgpack_view {
public:
  explicit msgpack_view(const msgpack::object_map& map) : map_(map) {
  }

  std::optional<std::string_view> str(std::string_view key) const {
    const msgpack::object* o = find(key);
    if (o == nullptr || o->type != msgpack::type::STR) {
      return std::nullopt;
    }
    return std::string_view(o->via.str.ptr, o->via.str.size);
  }
  std::optional<uint64_t> u64(std::string_view key) const {
    const msgpack::object* o = find(key);
    if (o == nullptr || o->type != msgpack::type::POSITIVE_INTEGER) {
      return std::nullopt;
    }
    return o->via.u64;
  }
  std::optional<int64_t> i64(std::string_view key) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) {
      return std::nullopt;
    }
    if (o->type == msgpack::type::NEGATIVE_INTEGER) {
      return o->via.i64;
    }
    if (o->type == msgpack::type::POSITIVE_INTEGER
        && o->via.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(o->via.u64);
    }
    return std::nullopt;
  }
  std::optional<bool> boolean(std::string_view key) const {
    const msgpack::object* o = find(key);
    if (o == nullptr || o->type != msgpack::type::BOOLEAN) {
      return std::nullopt;
    }
    return o->via.boolean;
  }
  std::optional<payload> value(std::string_view key, bool null_is_absent) const {
    const msgpack::object* o = find(key);
    if (o == nullptr || (null_is_absent && o->type == msgpack::type::NIL)) {
      return std::nullopt;
    }
    payload p{wire_format::msgpack, {}};
    actors::string_sink sink(p.bytes);
    msgpack::packer<actors::string_sink> pk(sink);
    repack(p.bytes, pk, *o);
    return p;
  }
  template <class F>
  void each_object(std::string_view key, F&& f) const {
    const msgpack::object* o = find(key);
    if (o == nullptr || o->type != msgpack::type::ARRAY) {
      return;
    }
    for (uint32_t i = 0; i < o->via.array.size; ++i) {
      const msgpack::object& item = o->via.array.ptr[i];
      if (item.type == msgpack::type::MAP) {
        f(msgpack_view(item.via.map));
      }
    }
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

template <class V>
std::string text(const V& v, std::string_view key) {
  auto s = v.str(key);
  return s ? std::string(*s) : std::string();
}

template <class V>
member_list members(const V& v, std::string_view key) {
  member_list out;
  v.each_object(key, [&](const V& m) {
    member x;
    x.user = text(m, "user");
    x.session = text(m, "session");
    x.node = text(m, "node");
    x.status = text(m, "status");
    x.meta = m.value("meta", true);
    out.push_back(std::move(x));
  });
  return out;
}

template <class V>
decode_outcome decode_fields(const V& v) {
  decode_outcome r;
  auto type = v.str("type");
  if (!type) {
    r.error = "frame has no string field 'type'";
    return r;
  }
  auto id = v.i64("id");
  if (*type == "message") {
    message_event m;
    auto channel = v.str("channel");
    auto offset = v.u64("offset");
    auto data = v.value("data", false);
    if (!channel || !offset || !data) {
      r.error = "message needs channel, offset and data";
      return r;
    }
    m.channel.assign(*channel);
    m.offset = *offset;
    m.data = std::move(*data);
    m.from = text(v, "from");
    r.frame = std::move(m);
  } else if (*type == "ack") {
    if (!id) {
      r.error = "ack without an integer id";
      return r;
    }
    r.frame = ack_frame{*id, v.u64("offset")};
  } else if (*type == "subscribed") {
    subscribed_frame s;
    s.id = id;
    s.event.channel = text(v, "channel");
    s.event.offset = v.u64("offset").value_or(0);
    s.event.epoch = text(v, "epoch");
    s.event.recovered = v.boolean("recovered");
    r.frame = std::move(s);
  } else if (*type == "presence" || *type == "presence_count") {
    presence_frame p;
    p.id = id;
    p.event.channel = text(v, "channel");
    if (*type == "presence") {
      p.event.members = members(v, "members");
    } else {
      p.event.count = v.u64("count").value_or(0);
    }
    r.frame = std::move(p);
  } else if (*type == "presence_diff") {
    presence_diff_event d;
    d.channel = text(v, "channel");
    d.joins = members(v, "joins");
    d.leaves = members(v, "leaves");
    d.updates = members(v, "updates");
    r.frame = std::move(d);
  } else if (*type == "error") {
    error_event e;
    e.id = id;
    e.code = text(v, "code");
    e.message = text(v, "message");
    r.frame = std::move(e);
  } else if (*type == "pong") {
    r.frame = pong_frame{id};
  } else if (*type == "welcome") {
    welcome_event w;
    w.session = text(v, "session");
    w.node = text(v, "node");
    w.user = text(v, "user");
    auto hb = v.u64("heartbeat_ms").value_or(0);
    w.heartbeat_ms = static_cast<uint32_t>(std::min<uint64_t>(hb, UINT32_MAX));
    w.resume = text(v, "resume");
    r.frame = std::move(w);
  } else if (*type == "reconnect") {
    r.frame = reconnect_frame{text(v, "url"), v.u64("after_ms").value_or(0)};
  } else if (*type == "refresh_required") {
    r.frame = refresh_required_frame{v.u64("expires_in_ms").value_or(0)};
  } else {
    r.frame = unknown_frame{std::string(*type)};
  }
  return r;
}

simdjson::dom::parser& json_parser() {
  // One per thread: the parser keeps its buffers between frames and is not thread-safe.
  thread_local simdjson::dom::parser parser{1 << 20};
  return parser;
}

bool reference_input(msgpack::type::object_type, std::size_t, void*) {
  return true; // the bytes outlive the unpacked object: strings are not copied
}

/// Unpacks one msgpack object; container sizes are bounded by the input size, so a small
/// frame cannot make msgpack-c allocate gigabytes. Throws on malformed input.
msgpack::object_handle unpack_bounded(std::string_view bytes, std::size_t& off) {
  std::size_t n = bytes.size();
  msgpack::unpack_limit limit(n, n / 2, n, n, n, max_depth);
  return msgpack::unpack(bytes.data(), n, off, reference_input, nullptr, limit);
}

decode_outcome decode_json(std::string_view bytes) {
  decode_outcome r;
  simdjson::dom::element root;
  if (auto err = json_parser().parse(bytes.data(), bytes.size()).get(root)) {
    r.error = std::string("malformed JSON: ") + simdjson::error_message(err);
    return r;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    r.error = "frame is not a JSON object";
    return r;
  }
  return decode_fields(json_view(obj));
}

decode_outcome decode_msgpack(std::string_view bytes) {
  decode_outcome r;
  std::size_t off = 0;
  msgpack::object_handle oh = unpack_bounded(bytes, off);
  if (off != bytes.size()) {
    r.error = "trailing bytes after the msgpack frame";
    return r;
  }
  if (oh.get().type != msgpack::type::MAP) {
    r.error = "frame is not a msgpack map";
    return r;
  }
  return decode_fields(msgpack_view(oh.get().via.map));
}

} // namespace

std::string encode_subscribe(wire_format f, int64_t id, std::string_view channel,
                             std::optional<uint64_t> since, std::string_view epoch) {
  bool resume = since.has_value() && !epoch.empty();
  return build(f, resume ? 5 : 3, [&](auto& w) {
    head(w, "subscribe", id);
    w.key("channel");
    w.str(channel);
    if (resume) {
      w.key("since");
      w.u64(*since);
      w.key("epoch");
      w.str(epoch);
    }
  });
}

std::string encode_unsubscribe(wire_format f, int64_t id, std::string_view channel) {
  return build(f, 3, [&](auto& w) {
    head(w, "unsubscribe", id);
    w.key("channel");
    w.str(channel);
  });
}

std::string encode_publish(wire_format f, int64_t id, std::string_view channel,
                           const payload& data) {
  return build(f, 4, [&](auto& w) {
    head(w, "publish", id);
    w.key("channel");
    w.str(channel);
    w.key("data");
    w.value(data);
  });
}

std::string encode_presence(wire_format f, int64_t id, std::string_view channel) {
  return build(f, 3, [&](auto& w) {
    head(w, "presence", id);
    w.key("channel");
    w.str(channel);
  });
}

std::string encode_status(wire_format f, int64_t id, std::string_view status,
                          const std::optional<payload>& meta) {
  return build(f, meta ? 4 : 3, [&](auto& w) {
    head(w, "status", id);
    w.key("status");
    w.str(status);
    if (meta) {
      w.key("meta");
      w.value(*meta);
    }
  });
}

std::string encode_ping(wire_format f, std::optional<int64_t> id) {
  return build(f, id ? 2 : 1, [&](auto& w) { head(w, "ping", id); });
}

std::string encode_refresh(wire_format f, int64_t id, std::string_view token) {
  return build(f, 3, [&](auto& w) {
    head(w, "refresh", id);
    w.key("token");
    w.str(token);
  });
}

std::string check_payload(const payload& p) {
  if (p.bytes.empty()) {
    return "empty value";
  }
  if (p.format == wire_format::json) {
    simdjson::dom::element root;
    if (auto err = json_parser().parse(p.bytes.data(), p.bytes.size()).get(root)) {
      return std::string("not valid JSON: ") + simdjson::error_message(err);
    }
    return {};
  }
  try {
    std::size_t off = 0;
    auto oh = unpack_bounded(p.bytes, off);
    if (off != p.bytes.size()) {
      return "trailing bytes after the msgpack value";
    }
    return {};
  } catch (...) {
    return "not a valid msgpack value";
  }
}

decode_outcome decode_server_frame(wire_format f, std::string_view bytes) {
  try {
    if (bytes.empty()) {
      return decode_outcome{std::nullopt, "empty frame"};
    }
    return f == wire_format::json ? decode_json(bytes) : decode_msgpack(bytes);
  } catch (const std::exception& e) {
    return decode_outcome{std::nullopt, std::string("malformed frame: ") + e.what()};
  } catch (...) {
    return decode_outcome{std::nullopt, "malformed frame"};
  }
}

} // namespace plexus::net

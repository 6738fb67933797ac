#include "actors/server_frames.hpp"

#include <utility>

#include <msgpack.hpp>

#include "actors/json_text.hpp"
#include "actors/msgpack_out.hpp"
#include "actors/payload_convert.hpp"

namespace plexus::actors {

namespace {

// Each frame is written once, by a function template over the writer, and instantiated
// with both backends below: the JSON and msgpack encodings cannot drift apart.
//
// Writer interface: begin_map(n) / end_map(), begin_array(n) / end_array(), key(k), and
// the values str, u64, i64, boolean, null, value(payload). msgpack needs container sizes
// up front, so callers pass the exact number of fields / items; JSON ignores them.

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {
  }

  void begin_map(std::size_t) {
    separate();
    out_.push_back('{');
    first_ = true;
  }
  void end_map() {
    out_.push_back('}');
    first_ = false;
  }
  void begin_array(std::size_t) {
    separate();
    out_.push_back('[');
    first_ = true;
  }
  void end_array() {
    out_.push_back(']');
    first_ = false;
  }
  /// `k` is one of our own field names: plain ASCII, nothing to escape.
  void key(std::string_view k) {
    separate();
    out_.push_back('"');
    out_ += k;
    out_ += "\":";
    first_ = true;
  }
  void str(std::string_view s) {
    separate();
    append_json_string(out_, s);
  }
  void u64(uint64_t v) {
    separate();
    append_json_uint(out_, v);
  }
  void i64(int64_t v) {
    separate();
    append_json_int(out_, v);
  }
  void boolean(bool v) {
    separate();
    out_ += v ? "true" : "false";
  }
  void null() {
    separate();
    out_ += "null";
  }
  void value(const payload& p) {
    separate();
    append_json(out_, p);
  }

private:
  /// Writes the comma before a map field or array item, unless it is the first one or the
  /// value of a key just written.
  void separate() {
    if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
  }

  std::string& out_;
  bool first_ = true;
};

class msgpack_writer {
public:
  explicit msgpack_writer(std::string& out) : out_(out), sink_(out), pk_(sink_) {
  }

  void begin_map(std::size_t n) {
    pk_.pack_map(static_cast<uint32_t>(n));
  }
  void end_map() {
  }
  void begin_array(std::size_t n) {
    pk_.pack_array(static_cast<uint32_t>(n));
  }
  void end_array() {
  }
  void key(std::string_view k) {
    str(k);
  }
  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void u64(uint64_t v) {
    pk_.pack_uint64(v);
  }
  void i64(int64_t v) {
    pk_.pack_int64(v);
  }
  void boolean(bool v) {
    if (v) {
      pk_.pack_true();
    } else {
      pk_.pack_false();
    }
  }
  void null() {
    pk_.pack_nil();
  }
  void value(const payload& p) {
    append_msgpack(out_, p);
  }

private:
  std::string& out_;
  string_sink sink_;
  msgpack::packer<string_sink> pk_;
};

/// Encodes the frame `write` describes in every format `e` asks for, then its deflated
/// variants. `size_hint` is a generous guess of one encoding's size, reserved up front so
/// the output strings are the only allocations.
template <class Write>
frame_ptr build(const encodings& e, std::size_t size_hint, Write&& write) {
  auto f = std::make_shared<frame>();
  if (e.json) {
    f->json.reserve(size_hint);
    json_writer w(f->json);
    write(w);
  }
  if (e.msgpack) {
    f->msgpack.reserve(size_hint);
    msgpack_writer w(f->msgpack);
    write(w);
  }
  deflate_variants(*f, e);
  return f;
}

template <class W>
void write_member(W& w, const member& m) {
  w.begin_map(5);
  w.key("user");
  w.str(m.user);
  w.key("session");
  w.str(m.session);
  w.key("node");
  w.str(m.node);
  w.key("status");
  w.str(m.status);
  w.key("meta");
  if (m.meta) {
    w.value(*m.meta);
  } else {
    w.null();
  }
  w.end_map();
}

template <class W>
void write_members(W& w, const member_list& members) {
  w.begin_array(members.size());
  for (const member& m : members) {
    write_member(w, m);
  }
  w.end_array();
}

std::size_t members_size_hint(const member_list& members) {
  std::size_t n = 2;
  for (const member& m : members) {
    n += 64 + m.user.size() + m.session.size() + m.node.size() + m.status.size()
         + (m.meta ? m.meta->bytes.size() * 2 : 0);
  }
  return n;
}

} // namespace

frame_ptr make_welcome(const welcome_info& wi, const encodings& e) {
  std::size_t hint = 96 + wi.session.size() + wi.node.size() + wi.user.size() + wi.resume.size();
  return build(e, hint, [&](auto& w) {
    w.begin_map(6);
    w.key("type");
    w.str("welcome");
    w.key("session");
    w.str(wi.session);
    w.key("node");
    w.str(wi.node);
    w.key("user");
    w.str(wi.user);
    w.key("heartbeat_ms");
    w.u64(wi.heartbeat_ms);
    w.key("resume");
    w.str(wi.resume);
    w.end_map();
  });
}

frame_ptr make_subscribed(std::optional<int64_t> id, std::string_view channel, uint64_t offset,
                          std::string_view epoch, std::optional<bool> recovered,
                          const encodings& e) {
  std::size_t hint = 112 + channel.size() + epoch.size();
  return build(e, hint, [&](auto& w) {
    w.begin_map(4 + (id ? 1 : 0) + (recovered ? 1 : 0));
    w.key("type");
    w.str("subscribed");
    if (id) {
      w.key("id");
      w.i64(*id);
    }
    w.key("channel");
    w.str(channel);
    w.key("offset");
    w.u64(offset);
    w.key("epoch");
    w.str(epoch);
    if (recovered) {
      w.key("recovered");
      w.boolean(*recovered);
    }
    w.end_map();
  });
}

frame_ptr make_message(std::string_view channel, const payload& data, uint64_t offset,
                       std::string_view from, const encodings& e) {
  // Converted payloads grow (base64, JSON syntax): leave room so the buffer is not regrown.
  bool converts = (e.json && data.format != wire_format::json)
                  || (e.msgpack && data.format != wire_format::msgpack);
  std::size_t hint = 80 + channel.size() + from.size() + data.bytes.size()
                     + (converts ? data.bytes.size() / 2 + 16 : 0);
  return build(e, hint, [&](auto& w) {
    w.begin_map(from.empty() ? 4 : 5);
    w.key("type");
    w.str("message");
    w.key("channel");
    w.str(channel);
    w.key("data");
    w.value(data);
    w.key("offset");
    w.u64(offset);
    if (!from.empty()) {
      w.key("from");
      w.str(from);
    }
    w.end_map();
  });
}

frame_ptr make_ack(int64_t id, std::optional<uint64_t> offset, const encodings& e) {
  return build(e, 64, [&](auto& w) {
    w.begin_map(offset ? 3 : 2);
    w.key("type");
    w.str("ack");
    w.key("id");
    w.i64(id);
    if (offset) {
      w.key("offset");
      w.u64(*offset);
    }
    w.end_map();
  });
}

frame_ptr make_error(std::optional<int64_t> id, errc code, std::string_view message,
                     const encodings& e) {
  std::string_view code_name = to_string(code);
  std::size_t hint = 64 + code_name.size() + message.size() + message.size() / 8;
  return build(e, hint, [&](auto& w) {
    w.begin_map(id ? 4 : 3);
    w.key("type");
    w.str("error");
    if (id) {
      w.key("id");
      w.i64(*id);
    }
    w.key("code");
    w.str(code_name);
    w.key("message");
    w.str(message);
    w.end_map();
  });
}

frame_ptr make_pong(std::optional<int64_t> id, const encodings& e) {
  return build(e, 48, [&](auto& w) {
    w.begin_map(id ? 2 : 1);
    w.key("type");
    w.str("pong");
    if (id) {
      w.key("id");
      w.i64(*id);
    }
    w.end_map();
  });
}

frame_ptr make_presence(std::optional<int64_t> id, std::string_view channel,
                        const member_list& members, const encodings& e) {
  std::size_t hint = 80 + channel.size() + members_size_hint(members);
  return build(e, hint, [&](auto& w) {
    w.begin_map(id ? 4 : 3);
    w.key("type");
    w.str("presence");
    if (id) {
      w.key("id");
      w.i64(*id);
    }
    w.key("channel");
    w.str(channel);
    w.key("members");
    write_members(w, members);
    w.end_map();
  });
}

frame_ptr make_presence_diff(std::string_view channel, const member_list& joins,
                             const member_list& leaves, const member_list& updates,
                             const encodings& e) {
  std::size_t hint = 112 + channel.size() + members_size_hint(joins) + members_size_hint(leaves)
                     + members_size_hint(updates);
  return build(e, hint, [&](auto& w) {
    w.begin_map(5);
    w.key("type");
    w.str("presence_diff");
    w.key("channel");
    w.str(channel);
    w.key("joins");
    write_members(w, joins);
    w.key("leaves");
    write_members(w, leaves);
    w.key("updates");
    write_members(w, updates);
    w.end_map();
  });
}

frame_ptr make_presence_count(std::optional<int64_t> id, std::string_view channel, uint64_t count,
                              const encodings& e) {
  return build(e, 96 + channel.size(), [&](auto& w) {
    w.begin_map(id ? 4 : 3);
    w.key("type");
    w.str("presence_count");
    if (id) {
      w.key("id");
      w.i64(*id);
    }
    w.key("channel");
    w.str(channel);
    w.key("count");
    w.u64(count);
    w.end_map();
  });
}

frame_ptr make_presence_count(std::string_view channel, uint64_t count, const encodings& e) {
  return make_presence_count(std::nullopt, channel, count, e);
}

frame_ptr make_refresh_required(uint64_t expires_in_ms, const encodings& e) {
  return build(e, 64, [&](auto& w) {
    w.begin_map(2);
    w.key("type");
    w.str("refresh_required");
    w.key("expires_in_ms");
    w.u64(expires_in_ms);
    w.end_map();
  });
}

frame_ptr make_reconnect(std::string_view url, uint64_t after_ms, const encodings& e) {
  return build(e, 64 + url.size(), [&](auto& w) {
    w.begin_map(url.empty() ? 2 : 3);
    w.key("type");
    w.str("reconnect");
    if (!url.empty()) {
      w.key("url");
      w.str(url);
    }
    w.key("after_ms");
    w.u64(after_ms);
    w.end_map();
  });
}

} // namespace plexus::actors

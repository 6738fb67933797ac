#include "cluster/wire.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <msgpack.hpp>

#include "actors/msgpack_out.hpp"

namespace plexus::cluster {

using actors::member;
using actors::member_list;
using actors::payload;
using actors::room_snapshot;
using actors::room_wire;
using actors::stream_entry;

const char* to_string(member_state s) {
  switch (s) {
    case member_state::up:
      return "up";
    case member_state::suspect:
      return "suspect";
    case member_state::down:
      return "down";
  }
  return "unknown";
}

const char* to_string(envelope_kind k) {
  switch (k) {
    case envelope_kind::gossip:
      return "gossip";
    case envelope_kind::ping:
      return "ping";
    case envelope_kind::ping_req:
      return "ping_req";
    case envelope_kind::ack:
      return "ack";
    case envelope_kind::room:
      return "room";
    case envelope_kind::room_request:
      return "room_request";
    case envelope_kind::room_reply:
      return "room_reply";
    case envelope_kind::channels_request:
      return "channels_request";
    case envelope_kind::channels_reply:
      return "channels_reply";
  }
  return "unknown";
}

const char* to_string(wire_error e) {
  switch (e) {
    case wire_error::none:
      return "none";
    case wire_error::too_short:
      return "too short";
    case wire_error::bad_mac:
      return "bad MAC (different cluster.secret?)";
    case wire_error::malformed:
      return "malformed";
    case wire_error::wrong_version:
      return "unsupported version";
  }
  return "unknown";
}

namespace {

// -- MAC --------------------------------------------------------------------------------

void mac_of(const std::string& secret, const char* data, std::size_t size,
            unsigned char (&out)[mac_size]) {
  // OpenSSL treats a null key as "reuse the previous one": give it a real (empty) buffer.
  static const unsigned char empty = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&empty) : secret.data();
  unsigned int len = mac_size;
  HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data), size, out, &len);
}

// -- writing ----------------------------------------------------------------------------

using packer = msgpack::packer<actors::string_sink>;

void put(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void put_bin(packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

void put(packer& pk, const payload& p) {
  pk.pack_array(2);
  pk.pack_uint8(static_cast<uint8_t>(p.format));
  put_bin(pk, p.bytes);
}

void put(packer& pk, const member_info& m) {
  pk.pack_array(11);
  put(pk, m.name);
  put(pk, m.control);
  put(pk, m.ws_url);
  pk.pack_uint64(m.incarnation);
  pk.pack_uint64(m.version);
  pk.pack_uint64(m.heartbeat);
  pk.pack_uint8(
    static_cast<uint8_t>(m.state == member_state::down ? member_state::down : member_state::up));
  pk.pack_uint64(m.connections);
  pk.pack(m.draining);
  pk.pack(m.full);
  pk.pack_uint64(m.max_connections);
}

void put(packer& pk, const member& m) {
  pk.pack_array(5);
  put(pk, m.user);
  put(pk, m.session);
  put(pk, m.node);
  put(pk, m.status);
  if (m.meta) {
    put(pk, *m.meta);
  } else {
    pk.pack_nil();
  }
}

void put(packer& pk, const member_list& ms) {
  pk.pack_array(static_cast<uint32_t>(ms.size()));
  for (const auto& m : ms) {
    put(pk, m);
  }
}

void put(packer& pk, const stream_entry& e) {
  pk.pack_array(5);
  pk.pack_uint64(e.offset);
  pk.pack_uint64(e.age_ms);
  put(pk, e.data);
  put(pk, e.from);
  pk.pack_uint64(e.pid);
}

void put(packer& pk, const room_snapshot& s) {
  pk.pack_array(9);
  put(pk, s.epoch);
  pk.pack_uint64(s.offset);
  pk.pack_uint64(s.pseq);
  pk.pack_array(static_cast<uint32_t>(s.ring.size()));
  for (const auto& e : s.ring) {
    put(pk, e);
  }
  put(pk, s.members);
  pk.pack_uint32(s.weight);
  pk.pack(s.durable);
  pk.pack(s.from_owner);
  pk.pack_array(static_cast<uint32_t>(s.pids.size() * 2));
  for (const auto& p : s.pids) {
    pk.pack_uint64(p.first);
    pk.pack_uint64(p.second);
  }
}

void put(packer& pk, const room_wire& w) {
  pk.pack_array(12);
  pk.pack_uint8(static_cast<uint8_t>(w.op));
  put(pk, w.channel);
  pk.pack_uint8(static_cast<uint8_t>(w.status));
  put(pk, w.epoch);
  put(pk, w.entry);
  pk.pack_uint64(w.pseq);
  pk.pack_uint8(static_cast<uint8_t>(w.change));
  put(pk, w.who);
  if (w.snap) {
    put(pk, *w.snap);
  } else {
    pk.pack_nil();
  }
  put(pk, w.members);
  pk.pack_uint64(w.offset);
  put(pk, w.text);
}

void put(packer& pk, const probe& p) {
  pk.pack_array(4);
  put(pk, p.target);
  put(pk, p.origin);
  pk.pack_uint64(p.nonce);
  if (p.entry) {
    put(pk, *p.entry);
  } else {
    pk.pack_nil();
  }
}

// -- reading ----------------------------------------------------------------------------

/// Thrown inside decode() only, caught there.
struct bad_shape {
  const char* what;
};

const msgpack::object* items(const msgpack::object& o, uint32_t n, const char* what) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size < n) {
    throw bad_shape{what};
  }
  return o.via.array.ptr;
}

uint64_t get_u64(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) {
    throw bad_shape{"expected an unsigned integer"};
  }
  return o.via.u64;
}

bool get_bool(const msgpack::object& o) {
  if (o.type != msgpack::type::BOOLEAN) {
    throw bad_shape{"expected a boolean"};
  }
  return o.via.boolean;
}

std::string get_str(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) {
    return {o.via.str.ptr, o.via.str.size};
  }
  if (o.type == msgpack::type::BIN) {
    return {o.via.bin.ptr, o.via.bin.size};
  }
  throw bad_shape{"expected a string"};
}

template <class E>
E get_enum(const msgpack::object& o, uint64_t max) {
  auto v = get_u64(o);
  if (v > max) {
    throw bad_shape{"enumerator out of range"};
  }
  return static_cast<E>(v);
}

payload get_payload(const msgpack::object& o) {
  auto* a = items(o, 2, "payload");
  payload p;
  p.format = get_enum<actors::wire_format>(a[0], 1);
  p.bytes = get_str(a[1]);
  return p;
}

member_info get_member_info(const msgpack::object& o) {
  auto* a = items(o, 10, "member row");
  member_info m;
  m.name = get_str(a[0]);
  m.control = get_str(a[1]);
  m.ws_url = get_str(a[2]);
  m.incarnation = get_u64(a[3]);
  m.version = get_u64(a[4]);
  m.heartbeat = get_u64(a[5]);
  m.state = get_enum<member_state>(a[6], 2);
  m.connections = get_u64(a[7]);
  m.draining = get_bool(a[8]);
  m.full = get_bool(a[9]);
  // An 11th field since issue 16; a row of an older node has 10 (capacity unknown).
  if (o.via.array.size > 10) {
    m.max_connections = get_u64(a[10]);
  }
  return m;
}

member get_member(const msgpack::object& o) {
  auto* a = items(o, 5, "presence member");
  member m;
  m.user = get_str(a[0]);
  m.session = get_str(a[1]);
  m.node = get_str(a[2]);
  m.status = get_str(a[3]);
  if (a[4].type != msgpack::type::NIL) {
    m.meta = get_payload(a[4]);
  }
  return m;
}

member_list get_members(const msgpack::object& o) {
  auto* a = items(o, 0, "member list");
  member_list out;
  out.reserve(o.via.array.size);
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    out.push_back(get_member(a[i]));
  }
  return out;
}

stream_entry get_entry(const msgpack::object& o) {
  auto* a = items(o, 5, "stream entry");
  stream_entry e;
  e.offset = get_u64(a[0]);
  e.age_ms = get_u64(a[1]);
  e.data = get_payload(a[2]);
  e.from = get_str(a[3]);
  e.pid = get_u64(a[4]);
  return e;
}

room_snapshot get_snapshot(const msgpack::object& o) {
  auto* a = items(o, 9, "room snapshot");
  room_snapshot s;
  s.epoch = get_str(a[0]);
  s.offset = get_u64(a[1]);
  s.pseq = get_u64(a[2]);
  auto* ring = items(a[3], 0, "ring");
  for (uint32_t i = 0; i < a[3].via.array.size; ++i) {
    s.ring.push_back(get_entry(ring[i]));
  }
  s.members = get_members(a[4]);
  s.weight = static_cast<uint32_t>(get_u64(a[5]));
  s.durable = get_bool(a[6]);
  s.from_owner = get_bool(a[7]);
  auto* pids = items(a[8], 0, "pids");
  for (uint32_t i = 0; i + 1 < a[8].via.array.size; i += 2) {
    s.pids.emplace_back(get_u64(pids[i]), get_u64(pids[i + 1]));
  }
  return s;
}

room_wire get_room(const msgpack::object& o) {
  auto* a = items(o, 12, "room message");
  room_wire w;
  w.op = get_enum<actors::room_op>(a[0], static_cast<uint64_t>(actors::room_op::reply));
  if (w.op == actors::room_op{}) {
    throw bad_shape{"room op 0"};
  }
  w.channel = get_str(a[1]);
  w.status
    = get_enum<actors::room_status>(a[2], static_cast<uint64_t>(actors::room_status::refused));
  w.epoch = get_str(a[3]);
  w.entry = get_entry(a[4]);
  w.pseq = get_u64(a[5]);
  w.change = get_enum<actors::member_change>(a[6], 2);
  w.who = get_member(a[7]);
  if (a[8].type != msgpack::type::NIL) {
    w.snap = get_snapshot(a[8]);
  }
  w.members = get_members(a[9]);
  w.offset = get_u64(a[10]);
  w.text = get_str(a[11]);
  return w;
}

probe get_probe(const msgpack::object& o) {
  auto* a = items(o, 4, "probe");
  probe p;
  p.target = get_str(a[0]);
  p.origin = get_str(a[1]);
  p.nonce = get_u64(a[2]);
  if (a[3].type != msgpack::type::NIL) {
    p.entry = get_member_info(a[3]);
  }
  return p;
}

} // namespace

std::string encode(const envelope& e, const std::string& secret) {
  std::string out;
  out.reserve(256 + e.room.entry.data.bytes.size());
  actors::string_sink sink(out);
  packer pk(sink);
  pk.pack_array(6);
  pk.pack_uint32(wire_version);
  pk.pack_uint8(static_cast<uint8_t>(e.kind));
  put(pk, e.sender);
  pk.pack_uint64(e.incarnation);
  pk.pack_uint64(e.id);
  switch (e.kind) {
    case envelope_kind::gossip:
      pk.pack_array(static_cast<uint32_t>(e.members.size()));
      for (const auto& m : e.members) {
        put(pk, m);
      }
      break;
    case envelope_kind::ping:
    case envelope_kind::ping_req:
    case envelope_kind::ack:
      put(pk, e.probe);
      break;
    case envelope_kind::room:
    case envelope_kind::room_request:
    case envelope_kind::room_reply:
      put(pk, e.room);
      break;
    case envelope_kind::channels_request:
    case envelope_kind::channels_reply:
      pk.pack_array(static_cast<uint32_t>(e.channels.size()));
      for (const auto& c : e.channels) {
        pk.pack_array(3);
        put(pk, c.channel);
        pk.pack_uint64(c.subscribers);
        pk.pack_uint64(c.offset);
      }
      break;
  }
  unsigned char mac[mac_size];
  mac_of(secret, out.data(), out.size(), mac);
  out.append(reinterpret_cast<const char*>(mac), mac_size);
  return out;
}

decoded decode(std::string_view bytes, const std::string& secret) {
  decoded r;
  if (bytes.size() <= mac_size) {
    r.error = wire_error::too_short;
    r.detail = std::to_string(bytes.size()) + " bytes";
    return r;
  }
  auto body = bytes.substr(0, bytes.size() - mac_size);
  unsigned char mac[mac_size];
  mac_of(secret, body.data(), body.size(), mac);
  if (CRYPTO_memcmp(mac, bytes.data() + body.size(), mac_size) != 0) {
    r.error = wire_error::bad_mac;
    return r;
  }
  try {
    // Authenticated bytes, but bounded anyway: a buggy peer must not make us allocate
    // gigabytes from a short header.
    msgpack::unpack_limit limit(1 << 20, 0, 64 << 20, 64 << 20, 0, 16);
    auto handle = msgpack::unpack(body.data(), body.size(), nullptr, nullptr, limit);
    const auto& root = handle.get();
    auto* a = items(root, 6, "envelope");
    auto version = get_u64(a[0]);
    if (version != wire_version) {
      r.error = wire_error::wrong_version;
      r.detail = "version " + std::to_string(version) + ", this node speaks "
                 + std::to_string(wire_version);
      return r;
    }
    envelope e;
    e.kind = get_enum<envelope_kind>(a[1], static_cast<uint64_t>(envelope_kind::channels_reply));
    e.sender = get_str(a[2]);
    e.incarnation = get_u64(a[3]);
    e.id = get_u64(a[4]);
    switch (e.kind) {
      case envelope_kind::gossip: {
        auto* m = items(a[5], 0, "member table");
        for (uint32_t i = 0; i < a[5].via.array.size; ++i) {
          e.members.push_back(get_member_info(m[i]));
        }
        break;
      }
      case envelope_kind::ping:
      case envelope_kind::ping_req:
      case envelope_kind::ack:
        e.probe = get_probe(a[5]);
        break;
      case envelope_kind::room:
      case envelope_kind::room_request:
      case envelope_kind::room_reply:
        e.room = get_room(a[5]);
        break;
      case envelope_kind::channels_request:
      case envelope_kind::channels_reply: {
        auto* c = items(a[5], 0, "channel list");
        for (uint32_t i = 0; i < a[5].via.array.size; ++i) {
          auto* row = items(c[i], 3, "channel row");
          e.channels.push_back({get_str(row[0]), get_u64(row[1]), get_u64(row[2])});
        }
        break;
      }
      default:
        throw bad_shape{"unknown kind"};
    }
    r.env = std::move(e);
  } catch (const bad_shape& x) {
    r.error = wire_error::malformed;
    r.detail = x.what;
  } catch (const std::exception& x) { // msgpack-c: parse_error, insufficient_bytes, limits
    r.error = wire_error::malformed;
    r.detail = x.what();
  }
  return r;
}

std::string hmac_hex(const std::string& secret, std::string_view data, std::size_t hex_chars) {
  unsigned char mac[mac_size];
  mac_of(secret, data.data(), data.size(), mac);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < mac_size && out.size() < hex_chars; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 15];
  }
  out.resize(std::min(hex_chars, out.size()));
  return out;
}

} // namespace plexus::cluster

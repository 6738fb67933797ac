#include "actors/codec.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include "actors/payload.hpp"

namespace plexus::actors {
namespace {

// Cases that exist in one format only: syntax errors of each parser, msgpack types JSON
// lacks, exact size boundaries (which depend on the encoding). The shared rules are in
// codec_test.cpp.

template <class Fn>
std::string pack(Fn&& fn) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  fn(pk);
  return std::string(buf.data(), buf.size());
}

/// Raw msgpack floats: msgpack-c 4.1's packer writes integral floats (3.0, -0.0) as
/// integers. pack_str_body appends bytes as they are.
template <class Packer>
void pack_f64(Packer& pk, double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof(bits));
  char buf[9] = {'\xCB'};
  for (int i = 0; i < 8; ++i) {
    buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
  }
  pk.pack_str_body(buf, sizeof(buf));
}

template <class Packer>
void pack_f32(Packer& pk, float f) {
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof(bits));
  char buf[5] = {'\xCA'};
  for (int i = 0; i < 4; ++i) {
    buf[1 + i] = static_cast<char>(bits >> (24 - 8 * i));
  }
  pk.pack_str_body(buf, sizeof(buf));
}

std::string to_msgpack_frame(std::string_view json) {
  return to_msgpack(payload{wire_format::json, std::string(json)});
}

// --- JSON only ----------------------------------------------------------------------------

decode_error json_fails(std::string_view bytes) {
  auto r = decode_client_frame(wire_format::json, bytes);
  if (!std::holds_alternative<decode_error>(r)) {
    ADD_FAILURE() << bytes << " decoded";
    return {};
  }
  return std::get<decode_error>(r);
}

TEST(codec_json, empty_frame) {
  auto e = json_fails("");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "malformed JSON: empty frame");
}

TEST(codec_json, whitespace_only) {
  EXPECT_EQ(json_fails("   \n").code, errc::bad_request);
}

TEST(codec_json, truncated) {
  auto e = json_fails(R"({"type":"ping","id":1)");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message.rfind("malformed JSON: ", 0), 0u) << e.message;
  EXPECT_FALSE(e.id);
}

TEST(codec_json, trailing_garbage) {
  EXPECT_EQ(json_fails(R"({"type":"ping"} x)").code, errc::bad_request);
  EXPECT_EQ(json_fails(R"({"type":"ping"}{"type":"ping"})").code, errc::bad_request);
}

TEST(codec_json, trailing_whitespace_is_fine) {
  EXPECT_TRUE(std::holds_alternative<client_message>(
    decode_client_frame(wire_format::json, "  {\"type\":\"ping\"}\r\n\t ")));
}

TEST(codec_json, invalid_utf8) {
  auto e = json_fails("{\"type\":\"publish\",\"channel\":\"c\",\"data\":\"\xC3\x28\"}");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message.rfind("malformed JSON: ", 0), 0u);
  EXPECT_EQ(json_fails("{\"type\":\"ping\",\"x\":\"\xED\xA0\x80\"}").code, errc::bad_request);
}

TEST(codec_json, invalid_syntax) {
  for (auto text :
       {R"({type:"ping"})", R"({'type':'ping'})", R"({"type":"ping",})", R"({"type" "ping"})",
        "{\"type\":\"pi\nng\"}", R"({"id":01,"type":"ping"})", R"({"id":1e400,"type":"ping"})"}) {
    EXPECT_EQ(json_fails(text).code, errc::bad_request) << text;
  }
}

TEST(codec_json, embedded_nul) {
  EXPECT_EQ(json_fails(std::string_view("{\"type\":\"ping\"}\0", 16)).code, errc::bad_request);
  EXPECT_EQ(json_fails(std::string_view("{\"type\":\"pi\0ng\"}", 16)).code, errc::bad_request);
}

TEST(codec_json, integer_beyond_uint64_is_malformed) {
  // simdjson refuses integer literals past uint64; JSON.stringify never writes them.
  auto e = json_fails(R"({"type":"publish","channel":"c","data":123456789012345678901234567890})");
  EXPECT_EQ(e.code, errc::bad_request);
}

TEST(codec_json, data_is_minified) {
  auto r = decode_client_frame(wire_format::json,
                               "{ \"type\" : \"publish\", \"channel\" : \"c\",\n \"data\" : "
                               "{ \"a\" : [ 1 , 2 ] ,\n\t\"b\" : \"x y\" } }");
  auto& p = std::get<publish_request>(std::get<client_message>(r).body);
  EXPECT_EQ(p.data.format, wire_format::json);
  EXPECT_EQ(p.data.bytes, R"({"a":[1,2],"b":"x y"})");
}

TEST(codec_json, data_escapes_kept_valid) {
  auto r = decode_client_frame(
    wire_format::json,
    R"({"type":"publish","channel":"c","data":"q\"b\\s\/n\n\u0001\u00e9\ud83d\ude00"})");
  auto& p = std::get<publish_request>(std::get<client_message>(r).body);
  EXPECT_EQ(p.data.bytes, "\"q\\\"b\\\\s/n\\n\\u0001\xC3\xA9\xF0\x9F\x98\x80\"");
}

TEST(codec_json, escaped_field_names_are_recognised) {
  auto r = decode_client_frame(wire_format::json, R"({"ty\u0070e":"ping","\u0069d":3})");
  EXPECT_EQ(std::get<client_message>(r).id, 3);
}

TEST(codec_json, duplicate_keys_first_wins) {
  auto r = decode_client_frame(wire_format::json, R"({"type":"ping","type":"publish"})");
  EXPECT_TRUE(std::holds_alternative<ping_request>(std::get<client_message>(r).body));
}

TEST(codec_json, meta_size_boundary) {
  // A JSON string value costs its length plus two quotes.
  std::string fits(max_meta_bytes - 2, 'm');
  auto r = decode_client_frame(wire_format::json,
                               R"({"type":"status","status":"x","meta":")" + fits + "\"}");
  EXPECT_EQ(std::get<status_request>(std::get<client_message>(r).body).meta->bytes.size(),
            max_meta_bytes);
  EXPECT_EQ(json_fails(R"({"type":"status","status":"x","meta":")" + fits + "m\"}").code,
            errc::bad_request);
}

TEST(codec_json, meta_measured_after_minify) {
  std::string padded = R"({"type":"status","status":"x","meta":[)" + std::string(4000, ' ') + "1]}";
  auto r = decode_client_frame(wire_format::json, padded);
  EXPECT_EQ(std::get<status_request>(std::get<client_message>(r).body).meta->bytes, "[1]");
}

TEST(codec_json, status_counts_bytes) {
  // 22 three-byte characters: 66 bytes, over the limit although only 22 characters.
  std::string s;
  for (int i = 0; i < 22; ++i) {
    s += "\xE4\xB8\xAD";
  }
  EXPECT_EQ(json_fails(R"({"type":"status","status":")" + s + "\"}").code, errc::bad_request);
}

TEST(codec_json, unicode_token) {
  auto r = decode_client_frame(wire_format::json, "{\"type\":\"refresh\",\"token\":\"t\xC3\xA9\"}");
  EXPECT_EQ(std::get<refresh_request>(std::get<client_message>(r).body).token, "t\xC3\xA9");
}

// --- msgpack only -------------------------------------------------------------------------

decode_error msgpack_fails(std::string_view bytes) {
  auto r = decode_client_frame(wire_format::msgpack, bytes);
  if (!std::holds_alternative<decode_error>(r)) {
    ADD_FAILURE() << "msgpack frame decoded";
    return {};
  }
  auto e = std::get<decode_error>(r);
  EXPECT_EQ(e.message.find('\n'), std::string::npos);
  return e;
}

client_message msgpack_ok(std::string_view bytes) {
  auto r = decode_client_frame(wire_format::msgpack, bytes);
  if (auto* e = std::get_if<decode_error>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<client_message>(r);
}

template <class Packer>
void pack_str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

TEST(codec_msgpack, empty_frame) {
  auto e = msgpack_fails("");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "malformed msgpack: empty frame");
}

TEST(codec_msgpack, truncated) {
  auto full = to_msgpack_frame(R"({"type":"ping","id":1})");
  for (std::size_t n = 1; n < full.size(); ++n) {
    auto e = msgpack_fails(full.substr(0, n));
    EXPECT_EQ(e.code, errc::bad_request);
    EXPECT_EQ(e.message.rfind("malformed msgpack: ", 0), 0u) << e.message;
    EXPECT_FALSE(e.id);
  }
}

TEST(codec_msgpack, trailing_bytes) {
  auto bytes = to_msgpack_frame(R"({"type":"ping"})") + '\x01';
  auto e = msgpack_fails(bytes);
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "malformed msgpack: trailing bytes after the frame");
}

TEST(codec_msgpack, two_frames_in_one_message) {
  auto one = to_msgpack_frame(R"({"type":"ping"})");
  EXPECT_EQ(msgpack_fails(one + one).code, errc::bad_request);
}

TEST(codec_msgpack, reserved_byte) {
  EXPECT_EQ(msgpack_fails("\xC1").message, "malformed msgpack: invalid encoding");
}

TEST(codec_msgpack, not_a_map) {
  auto e = msgpack_fails(pack([](auto& pk) { pk.pack_array(0); }));
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "frame must be a msgpack map");
  EXPECT_EQ(msgpack_fails(pack([](auto& pk) { pk.pack_nil(); })).code, errc::bad_request);
  EXPECT_EQ(msgpack_fails(pack([](auto& pk) { pack_str(pk, "ping"); })).code, errc::bad_request);
}

TEST(codec_msgpack, huge_declared_array_is_refused_without_allocating) {
  // array32 of 2^32-1 items, map32 of 2^32-1 pairs, str32 of 4 GiB, all in a few bytes.
  EXPECT_EQ(msgpack_fails(std::string("\xDD\xFF\xFF\xFF\xFF", 5)).code, errc::bad_request);
  EXPECT_EQ(msgpack_fails(std::string("\xDF\xFF\xFF\xFF\xFF\x00", 6)).code, errc::bad_request);
  EXPECT_EQ(msgpack_fails(std::string("\xDB\xFF\xFF\xFF\xFF", 5)).code, errc::bad_request);
  auto e = msgpack_fails(std::string("\x81\xA4"
                                     "data"
                                     "\xDD\x00\x01\x00\x00\x01\x02",
                                     13));
  EXPECT_EQ(e.message, "malformed msgpack: a container declares more items than the frame holds");
}

TEST(codec_msgpack, nested_declared_arrays_bounded_by_frame_size) {
  // Each level claims 65535 items; the running total passes the frame size at once.
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    bytes += std::string("\xDC\xFF\xFF", 3);
  }
  EXPECT_EQ(msgpack_fails(bytes).code, errc::bad_request);
}

TEST(codec_msgpack, invalid_utf8_string) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(3);
    pack_str(pk, "type");
    pack_str(pk, "publish");
    pack_str(pk, "channel");
    pack_str(pk, "c");
    pack_str(pk, "data");
    pack_str(pk, "\xC3\x28");
  });
  auto e = msgpack_fails(bytes);
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "malformed msgpack: a string is not valid UTF-8");
}

TEST(codec_msgpack, invalid_utf8_in_a_key) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(2);
    pack_str(pk, "type");
    pack_str(pk, "ping");
    pack_str(pk, "\xFF");
    pk.pack_nil();
  });
  EXPECT_EQ(msgpack_fails(bytes).code, errc::bad_request);
}

TEST(codec_msgpack, non_string_keys_are_ignored) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(3);
    pk.pack(1);
    pack_str(pk, "subscribe");
    pk.pack_nil();
    pk.pack_nil();
    pack_str(pk, "type");
    pack_str(pk, "ping");
  });
  EXPECT_TRUE(std::holds_alternative<ping_request>(msgpack_ok(bytes).body));
}

TEST(codec_msgpack, type_as_bin_is_bad_request) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(1);
    pack_str(pk, "type");
    pk.pack_bin(4);
    pk.pack_bin_body("ping", 4);
  });
  EXPECT_EQ(msgpack_fails(bytes).message, "field 'type' must be a string");
}

TEST(codec_msgpack, float32_since_is_bad_request) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(4);
    pack_str(pk, "type");
    pack_str(pk, "subscribe");
    pack_str(pk, "channel");
    pack_str(pk, "c");
    pack_str(pk, "since");
    pack_f32(pk, 3.0f);
    pack_str(pk, "epoch");
    pack_str(pk, "e");
  });
  EXPECT_EQ(msgpack_fails(bytes).code, errc::bad_request);
}

TEST(codec_msgpack, id_as_uint64_above_int64_is_bad_request) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(2);
    pack_str(pk, "type");
    pack_str(pk, "ping");
    pack_str(pk, "id");
    pk.pack_uint64(std::numeric_limits<uint64_t>::max());
  });
  auto e = msgpack_fails(bytes);
  EXPECT_EQ(e.message, "field 'id' must be an integer");
  EXPECT_FALSE(e.id);
}

TEST(codec_msgpack, fixed_width_integers_are_accepted) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(5);
    pack_str(pk, "type");
    pack_str(pk, "subscribe");
    pack_str(pk, "id");
    pk.pack_fix_int64(-3);
    pack_str(pk, "channel");
    pack_str(pk, "c");
    pack_str(pk, "since");
    pk.pack_fix_uint64(12);
    pack_str(pk, "epoch");
    pack_str(pk, "e");
  });
  auto m = msgpack_ok(bytes);
  EXPECT_EQ(m.id, -3);
  EXPECT_EQ(std::get<subscribe_request>(m.body).since, 12u);
}

TEST(codec_msgpack, data_bin_and_ext_are_kept) {
  auto data = pack([](auto& pk) {
    pk.pack_array(2);
    pk.pack_bin(3);
    pk.pack_bin_body("\x00\x01\xFF", 3);
    pk.pack_ext(2, 7);
    pk.pack_ext_body("ab", 2);
  });
  auto bytes = pack([&](auto& pk) {
                 pk.pack_map(3);
                 pack_str(pk, "type");
                 pack_str(pk, "publish");
                 pack_str(pk, "channel");
                 pack_str(pk, "c");
                 pack_str(pk, "data");
               })
               + data;
  auto m = msgpack_ok(bytes);
  auto& p = std::get<publish_request>(m.body);
  EXPECT_EQ(p.data.format, wire_format::msgpack);
  EXPECT_EQ(p.data.bytes, data);
  EXPECT_EQ(to_json(p.data), R"(["AAH/",null])");
}

TEST(codec_msgpack, data_is_one_repacked_object) {
  auto data = pack([](auto& pk) {
    pk.pack_map(2);
    pack_str(pk, "k");
    pack_f64(pk, 1.25);
    pk.pack(-70000);
    pk.pack_array(1);
    pk.pack_true();
  });
  auto bytes = pack([&](auto& pk) {
                 pk.pack_map(3);
                 pack_str(pk, "data");
               })
               + data + pack([](auto& pk) {
                   pack_str(pk, "type");
                   pack_str(pk, "publish");
                   pack_str(pk, "channel");
                   pack_str(pk, "c");
                 });
  auto m = msgpack_ok(bytes);
  auto& p = std::get<publish_request>(m.body);
  EXPECT_EQ(p.data.bytes, data);
  EXPECT_EQ(to_json(p.data), R"({"k":1.25,"-70000":[true]})");
}

TEST(codec_msgpack, data_floats_keep_their_format) {
  auto data = pack([](auto& pk) {
    pk.pack_array(3);
    pack_f64(pk, 3.0);
    pack_f32(pk, 2.0f);
    pack_f64(pk, -0.0);
  });
  auto bytes = pack([](auto& pk) {
                 pk.pack_map(3);
                 pack_str(pk, "type");
                 pack_str(pk, "publish");
                 pack_str(pk, "channel");
                 pack_str(pk, "c");
                 pack_str(pk, "data");
               })
               + data;
  auto m = msgpack_ok(bytes);
  auto& p = std::get<publish_request>(m.body);
  EXPECT_EQ(p.data.bytes, data);
  EXPECT_EQ(to_json(p.data), "[3.0,2.0,-0.0]");
}

TEST(codec_msgpack, meta_size_boundary) {
  auto frame = [](std::size_t meta_len) {
    return pack([&](auto& pk) {
      pk.pack_map(3);
      pack_str(pk, "type");
      pack_str(pk, "status");
      pack_str(pk, "status");
      pack_str(pk, "away");
      pack_str(pk, "meta");
      pack_str(pk, std::string(meta_len, 'm'));
    });
  };
  // str16: three header bytes.
  auto m = msgpack_ok(frame(max_meta_bytes - 3));
  EXPECT_EQ(std::get<status_request>(m.body).meta->bytes.size(), max_meta_bytes);
  EXPECT_EQ(msgpack_fails(frame(max_meta_bytes - 2)).code, errc::bad_request);
}

TEST(codec_msgpack, strings_with_embedded_nul) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(2);
    pack_str(pk, "type");
    pack_str(pk, "refresh");
    pack_str(pk, "token");
    pack_str(pk, std::string_view("a\0b", 3));
  });
  EXPECT_EQ(std::get<refresh_request>(msgpack_ok(bytes).body).token, std::string("a\0b", 3));
}

} // namespace
} // namespace plexus::actors

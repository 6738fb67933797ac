#include "actors/payload.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include "actors/payload_convert.hpp"

namespace plexus::actors {
namespace {

template <class Fn>
std::string pack(Fn&& fn) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  fn(pk);
  return std::string(buf.data(), buf.size());
}

template <class Packer>
void pack_str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
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

payload json(std::string text) {
  return payload{wire_format::json, std::move(text)};
}

payload mp(std::string bytes) {
  return payload{wire_format::msgpack, std::move(bytes)};
}

std::string mp_to_json(std::string bytes) {
  return to_json(mp(std::move(bytes)));
}

msgpack::object_handle unpack(const std::string& bytes) {
  return msgpack::unpack(bytes.data(), bytes.size());
}

TEST(payload, default_is_json_null) {
  payload p;
  EXPECT_EQ(p.format, wire_format::json);
  EXPECT_EQ(to_json(p), "null");
  EXPECT_EQ(to_msgpack(p), "\xC0");
}

TEST(payload, same_format_is_returned_unchanged) {
  EXPECT_EQ(to_json(json(R"({"a":1})")), R"({"a":1})");
  auto bytes = pack([](auto& pk) { pk.pack_array(0); });
  EXPECT_EQ(to_msgpack(mp(bytes)), bytes);
  EXPECT_EQ(encode_as(json("[1]"), wire_format::json), "[1]");
  EXPECT_EQ(encode_as(mp(bytes), wire_format::msgpack), bytes);
}

TEST(payload, encode_as_converts) {
  EXPECT_EQ(encode_as(json("[1]"), wire_format::msgpack), std::string("\x91\x01", 2));
  EXPECT_EQ(encode_as(mp(std::string("\x91\x01", 2)), wire_format::json), "[1]");
}

TEST(payload, append_forms_append) {
  std::string out = "prefix:";
  append_json(out, mp(std::string("\x92\xC3\xC2", 3)));
  EXPECT_EQ(out, "prefix:[true,false]");
  out = "x";
  append_msgpack(out, json("true"));
  EXPECT_EQ(out, "x\xC3");
  out.clear();
  append_as(out, json("7"), wire_format::msgpack);
  EXPECT_EQ(out, "\x07");
}

// --- JSON -> msgpack ------------------------------------------------------------------------

TEST(payload_json_to_msgpack, scalars) {
  auto oh = unpack(to_msgpack(json(R"([1,-1,1.5,"s",true,false,null])")));
  const auto& a = oh.get().via.array;
  ASSERT_EQ(a.size, 7u);
  EXPECT_EQ(a.ptr[0].type, msgpack::type::POSITIVE_INTEGER);
  EXPECT_EQ(a.ptr[0].via.u64, 1u);
  EXPECT_EQ(a.ptr[1].type, msgpack::type::NEGATIVE_INTEGER);
  EXPECT_EQ(a.ptr[1].via.i64, -1);
  EXPECT_EQ(a.ptr[2].type, msgpack::type::FLOAT64);
  EXPECT_EQ(a.ptr[2].via.f64, 1.5);
  EXPECT_EQ(a.ptr[3].type, msgpack::type::STR);
  EXPECT_EQ(a.ptr[3].as<std::string>(), "s");
  EXPECT_EQ(a.ptr[4].type, msgpack::type::BOOLEAN);
  EXPECT_TRUE(a.ptr[4].via.boolean);
  EXPECT_FALSE(a.ptr[5].via.boolean);
  EXPECT_EQ(a.ptr[6].type, msgpack::type::NIL);
}

TEST(payload_json_to_msgpack, integer_extremes) {
  auto oh = unpack(to_msgpack(json("[9223372036854775807,-9223372036854775808,"
                                   "18446744073709551615]")));
  const auto& a = oh.get().via.array;
  EXPECT_EQ(a.ptr[0].via.u64, uint64_t{9223372036854775807u});
  EXPECT_EQ(a.ptr[1].via.i64, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(a.ptr[2].via.u64, std::numeric_limits<uint64_t>::max());
}

TEST(payload_json_to_msgpack, integral_doubles_stay_floats) {
  auto oh = unpack(to_msgpack(json("[3.0,1e20,-0.0]")));
  const auto& a = oh.get().via.array;
  for (uint32_t i = 0; i < a.size; ++i) {
    EXPECT_EQ(a.ptr[i].type, msgpack::type::FLOAT64) << i;
  }
  EXPECT_EQ(a.ptr[1].via.f64, 1e20);
  EXPECT_TRUE(std::signbit(a.ptr[2].via.f64));
}

TEST(payload_json_to_msgpack, objects_keep_order_and_escaped_keys) {
  auto bytes = to_msgpack(json(R"({"z":1,"a\"b":{"k":[]}})"));
  auto expected = pack([](auto& pk) {
    pk.pack_map(2);
    pack_str(pk, "z");
    pk.pack(1);
    pack_str(pk, "a\"b");
    pk.pack_map(1);
    pack_str(pk, "k");
    pk.pack_array(0);
  });
  EXPECT_EQ(bytes, expected);
}

TEST(payload_json_to_msgpack, unicode_strings_unescaped) {
  auto oh = unpack(to_msgpack(json(R"("\u00e9\ud83d\ude00\n")")));
  EXPECT_EQ(oh.get().as<std::string>(), "\xC3\xA9\xF0\x9F\x98\x80\n");
}

TEST(payload_json_to_msgpack, invalid_json_becomes_nil) {
  EXPECT_EQ(to_msgpack(json("{nope")), "\xC0");
  EXPECT_EQ(to_msgpack(json("")), "\xC0");
}

// --- msgpack -> JSON ------------------------------------------------------------------------

TEST(payload_msgpack_to_json, scalars) {
  auto bytes = pack([](auto& pk) {
    pk.pack_array(8);
    pk.pack_nil();
    pk.pack_true();
    pk.pack_false();
    pk.pack(0);
    pk.pack(-42);
    pk.pack_uint64(std::numeric_limits<uint64_t>::max());
    pk.pack_int64(std::numeric_limits<int64_t>::min());
    pack_str(pk, "");
  });
  EXPECT_EQ(mp_to_json(bytes),
            R"([null,true,false,0,-42,18446744073709551615,-9223372036854775808,""])");
}

TEST(payload_msgpack_to_json, doubles_round_trip) {
  auto bytes = pack([](auto& pk) {
    pk.pack_array(7);
    pack_f64(pk, 0.1);
    pack_f64(pk, 3.0);
    pack_f64(pk, -0.0);
    pack_f64(pk, 1e300);
    pack_f64(pk, 5e-324);
    pack_f64(pk, 123456789.125);
    pack_f64(pk, 1e16);
  });
  EXPECT_EQ(mp_to_json(bytes), "[0.1,3.0,-0.0,1e+300,5e-324,123456789.125,1e+16]");
}

TEST(payload_msgpack_to_json, float32_prints_shortest) {
  auto bytes = pack([](auto& pk) {
    pk.pack_array(2);
    pack_f32(pk, 0.1f);
    pack_f32(pk, 2.0f);
  });
  EXPECT_EQ(mp_to_json(bytes), "[0.1,2.0]");
}

TEST(payload_msgpack_to_json, nan_and_infinity_become_null) {
  auto bytes = pack([](auto& pk) {
    pk.pack_array(4);
    pack_f64(pk, std::numeric_limits<double>::quiet_NaN());
    pack_f64(pk, std::numeric_limits<double>::infinity());
    pack_f64(pk, -std::numeric_limits<double>::infinity());
    pack_f32(pk, std::numeric_limits<float>::quiet_NaN());
  });
  EXPECT_EQ(mp_to_json(bytes), "[null,null,null,null]");
}

TEST(payload_msgpack_to_json, string_escaping) {
  auto bytes = pack(
    [](auto& pk) { pack_str(pk, std::string_view("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\0end", 18)); });
  EXPECT_EQ(mp_to_json(bytes), "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000end\"");
}

TEST(payload_msgpack_to_json, unicode_kept_raw) {
  auto bytes = pack([](auto& pk) { pack_str(pk, "h\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8"); });
  EXPECT_EQ(mp_to_json(bytes), "\"h\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8\"");
}

TEST(payload_msgpack_to_json, invalid_utf8_replaced) {
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, > U+10FFFF.
  auto bytes = pack([](auto& pk) {
    pack_str(pk, "a\x80"
                 "b\xE2\x82"
                 "c\xC0\xAF"
                 "d\xED\xA0\x80"
                 "e\xF4\x90\x80\x80");
  });
  std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(mp_to_json(bytes),
            "\"a" + r + "b" + r + r + "c" + r + r + "d" + r + r + r + "e" + r + r + r + r + "\"");
}

TEST(payload_msgpack_to_json, bin_becomes_base64) {
  auto bin = [](std::string_view b) {
    return pack([&](auto& pk) {
      pk.pack_bin(static_cast<uint32_t>(b.size()));
      pk.pack_bin_body(b.data(), static_cast<uint32_t>(b.size()));
    });
  };
  EXPECT_EQ(mp_to_json(bin("")), R"("")");
  EXPECT_EQ(mp_to_json(bin("f")), R"("Zg==")");
  EXPECT_EQ(mp_to_json(bin("fo")), R"("Zm8=")");
  EXPECT_EQ(mp_to_json(bin("foo")), R"("Zm9v")");
  EXPECT_EQ(mp_to_json(bin("foobar")), R"("Zm9vYmFy")");
  EXPECT_EQ(mp_to_json(bin(std::string_view("\x00\xFF\xFE", 3))), R"("AP/+")");
}

TEST(payload_msgpack_to_json, ext_becomes_null) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(1);
    pack_str(pk, "t");
    pk.pack_ext(4, -1); // the timestamp extension
    pk.pack_ext_body("\x00\x00\x00\x01", 4);
  });
  EXPECT_EQ(mp_to_json(bytes), R"({"t":null})");
}

TEST(payload_msgpack_to_json, non_string_keys_become_their_json_text) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(6);
    pk.pack(1);
    pk.pack(1);
    pk.pack_nil();
    pk.pack(2);
    pk.pack_true();
    pk.pack(3);
    pack_f64(pk, 1.5);
    pk.pack(4);
    pk.pack_array(2);
    pack_str(pk, "a");
    pk.pack(-1);
    pk.pack(5);
    pk.pack_map(1);
    pack_str(pk, "k");
    pk.pack_nil();
    pk.pack(6);
  });
  EXPECT_EQ(mp_to_json(bytes),
            R"({"1":1,"null":2,"true":3,"1.5":4,"[\"a\",-1]":5,"{\"k\":null}":6})");
}

// Found by tests/fuzz/codec_fuzz.cpp: map keys that are maps, nested inside each other,
// were escaped once per level (the output doubled per level: gigabytes from 2 KiB).
TEST(payload_msgpack_to_json, container_keys_inside_container_keys_do_not_blow_up) {
  auto nested_keys = [](int depth) {
    return pack([depth](auto& pk) {
      // {{{...{}: 0...}: 0}: 0}: each map's only key is the next map.
      for (int i = 0; i < depth; ++i) {
        pk.pack_map(1);
      }
      pk.pack_map(0);
      for (int i = 0; i < depth; ++i) {
        pk.pack(0);
      }
    });
  };
  EXPECT_EQ(mp_to_json(nested_keys(1)), R"({"{}":0})");
  // One level of container keys is kept; those nested inside it become "null".
  EXPECT_EQ(mp_to_json(nested_keys(2)), R"({"{\"null\":0}":0})");
  EXPECT_EQ(mp_to_json(nested_keys(32)), R"({"{\"null\":0}":0})");
  // Arrays as keys and container keys under values of a key are bounded the same way.
  auto mixed = pack([](auto& pk) {
    pk.pack_map(1);
    pk.pack_array(1);
    pk.pack_map(1);
    pk.pack_array(1);
    pk.pack(7);
    pk.pack(8);
    pk.pack(9);
  });
  EXPECT_EQ(mp_to_json(mixed), R"({"[{\"null\":8}]":9})");
}

TEST(payload_msgpack_to_json, nested) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(2);
    pack_str(pk, "a");
    pk.pack_array(3);
    pk.pack_array(0);
    pk.pack_map(0);
    pk.pack_array(1);
    pk.pack_array(1);
    pk.pack(1);
    pack_str(pk, "b");
    pk.pack_nil();
  });
  EXPECT_EQ(mp_to_json(bytes), R"({"a":[[],{},[[1]]],"b":null})");
}

TEST(payload_msgpack_to_json, invalid_msgpack_becomes_null) {
  EXPECT_EQ(mp_to_json(""), "null");
  EXPECT_EQ(mp_to_json("\xC1"), "null");
  EXPECT_EQ(mp_to_json(std::string("\xDD\xFF\xFF\xFF\xFF", 5)), "null");
  EXPECT_EQ(mp_to_json("\x92\x01"), "null");
}

TEST(payload_msgpack_to_json, absurd_depth_becomes_null) {
  EXPECT_EQ(mp_to_json(std::string(1000, '\x91') + '\x01'), "null");
}

// --- round trips --------------------------------------------------------------------------

TEST(payload_round_trip, json_msgpack_json) {
  for (std::string text : {
         "null",
         "true",
         "0",
         "-1",
         "18446744073709551615",
         "-9223372036854775808",
         "0.1",
         "3.0",
         "-0.0",
         "1e+20",
         "1.7976931348623157e+308",
         "2.2250738585072014e-308",
         R"("")",
         R"("a\"b\\c\n\u0001")",
         "\"\xC3\xA9\xF0\x9F\x98\x80\"",
         "[]",
         "{}",
         R"({"a":[1,{"b":null}],"c":{"d":[true,false]},"e":"x"})",
         R"([[[[[[[[[[1]]]]]]]]]])",
       }) {
    auto bytes = to_msgpack(json(text));
    EXPECT_EQ(to_json(mp(bytes)), text);
  }
}

TEST(payload_round_trip, integral_floats_stay_floats) {
  auto bytes = pack([](auto& pk) {
    pk.pack_array(3);
    pack_f64(pk, 3.0);
    pack_f64(pk, -0.0);
    pack_f64(pk, 1e16);
  });
  EXPECT_EQ(to_json(mp(bytes)), "[3.0,-0.0,1e+16]");
  EXPECT_EQ(to_msgpack(json(to_json(mp(bytes)))), bytes);
}

TEST(payload_round_trip, msgpack_json_msgpack) {
  auto bytes = pack([](auto& pk) {
    pk.pack_map(4);
    pack_str(pk, "ints");
    pk.pack_array(6);
    pk.pack(0);
    pk.pack(127);
    pk.pack(-32);
    pk.pack(100000);
    pk.pack_int64(std::numeric_limits<int64_t>::min());
    pk.pack_uint64(std::numeric_limits<uint64_t>::max());
    pack_str(pk, "f");
    pack_f64(pk, 2.5e-7);
    pack_str(pk, "s");
    pack_str(pk, "text \xE2\x9C\x93 \"quoted\"\n");
    pack_str(pk, "n");
    pk.pack_map(1);
    pack_str(pk, "x");
    pk.pack_array(2);
    pk.pack_nil();
    pk.pack_false();
  });
  EXPECT_EQ(to_msgpack(json(to_json(mp(bytes)))), bytes);
}

} // namespace
} // namespace plexus::actors

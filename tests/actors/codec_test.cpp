#include "actors/codec.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "actors/payload.hpp"

namespace plexus::actors {
namespace {

// The rules are the same in both formats, so most tests are written once as JSON text and
// run for each format: the msgpack variant is the same map, packed by the payload converter
// (which payload_test checks on its own). Format-specific cases are in codec_format_test.cpp.

std::string encode(wire_format f, std::string_view json) {
  if (f == wire_format::json) {
    return std::string(json);
  }
  return to_msgpack(payload{wire_format::json, std::string(json)});
}

class codec_rules : public testing::TestWithParam<wire_format> {
protected:
  decode_result decode(std::string_view json) {
    return decode_client_frame(GetParam(), encode(GetParam(), json));
  }

  client_message ok(std::string_view json) {
    auto r = decode(json);
    if (auto* err = std::get_if<decode_error>(&r)) {
      ADD_FAILURE() << json << " -> " << to_string(err->code) << ": " << err->message;
      return {};
    }
    return std::get<client_message>(r);
  }

  decode_error fails(std::string_view json) {
    auto r = decode(json);
    if (!std::holds_alternative<decode_error>(r)) {
      ADD_FAILURE() << json << " decoded, but should not have";
      return {};
    }
    auto err = std::get<decode_error>(r);
    EXPECT_FALSE(err.message.empty());
    EXPECT_EQ(err.message.find('\n'), std::string::npos);
    return err;
  }

  /// The frame's `data` / `meta` as JSON, whatever format it was kept in.
  static std::string json_of(const payload& p) {
    return to_json(p);
  }
};

INSTANTIATE_TEST_SUITE_P(formats, codec_rules,
                         testing::Values(wire_format::json, wire_format::msgpack),
                         [](const testing::TestParamInfo<wire_format>& info) {
                           return std::string(to_string(info.param));
                         });

// --- valid frames of every type ---------------------------------------------------------

TEST_P(codec_rules, subscribe) {
  auto m = ok(R"({"type":"subscribe","channel":"room:lobby"})");
  auto& s = std::get<subscribe_request>(m.body);
  EXPECT_EQ(s.channel, "room:lobby");
  EXPECT_FALSE(s.since);
  EXPECT_FALSE(s.epoch);
  EXPECT_FALSE(m.id);
}

TEST_P(codec_rules, subscribe_with_since_and_epoch) {
  auto m = ok(R"({"type":"subscribe","id":7,"channel":"a","since":42,"epoch":"e1"})");
  auto& s = std::get<subscribe_request>(m.body);
  EXPECT_EQ(m.id, 7);
  EXPECT_EQ(s.since, 42u);
  EXPECT_EQ(s.epoch, "e1");
}

TEST_P(codec_rules, subscribe_since_zero_and_max) {
  EXPECT_EQ(std::get<subscribe_request>(
              ok(R"({"type":"subscribe","channel":"a","since":0,"epoch":"e"})").body)
              .since,
            0u);
  EXPECT_EQ(
    std::get<subscribe_request>(
      ok(R"({"type":"subscribe","channel":"a","since":18446744073709551615,"epoch":"e"})").body)
      .since,
    std::numeric_limits<uint64_t>::max());
}

TEST_P(codec_rules, subscribe_epoch_without_since) {
  auto m = ok(R"({"type":"subscribe","channel":"a","epoch":"e"})");
  EXPECT_EQ(std::get<subscribe_request>(m.body).epoch, "e");
}

TEST_P(codec_rules, unsubscribe) {
  auto m = ok(R"({"type":"unsubscribe","channel":"user:42"})");
  EXPECT_EQ(std::get<unsubscribe_request>(m.body).channel, "user:42");
}

TEST_P(codec_rules, publish) {
  auto m = ok(R"({"type":"publish","id":1,"channel":"chat","data":{"text":"hi","n":[1,2,3]}})");
  auto& p = std::get<publish_request>(m.body);
  EXPECT_EQ(p.channel, "chat");
  EXPECT_EQ(p.data.format, GetParam());
  EXPECT_EQ(json_of(p.data), R"({"text":"hi","n":[1,2,3]})");
}

TEST_P(codec_rules, publish_scalar_and_null_data) {
  EXPECT_EQ(
    json_of(
      std::get<publish_request>(ok(R"({"type":"publish","channel":"c","data":null})").body).data),
    "null");
  EXPECT_EQ(
    json_of(
      std::get<publish_request>(ok(R"({"type":"publish","channel":"c","data":"text"})").body).data),
    R"("text")");
  EXPECT_EQ(
    json_of(
      std::get<publish_request>(ok(R"({"type":"publish","channel":"c","data":-12})").body).data),
    "-12");
}

TEST_P(codec_rules, publish_nested_data) {
  std::string data = R"({"a":{"b":{"c":[{"d":[[],{}]},true,false,null]}},"e":""})";
  auto m = ok(R"({"type":"publish","channel":"c","data":)" + data + "}");
  EXPECT_EQ(json_of(std::get<publish_request>(m.body).data), data);
}

TEST_P(codec_rules, publish_big_ints_and_floats) {
  std::string data = "[9223372036854775807,-9223372036854775808,18446744073709551615,"
                     "1.7976931348623157e+308,5e-324,0.1,-0.0,3.0,1e+20]";
  auto m = ok(R"({"type":"publish","channel":"c","data":)" + data + "}");
  EXPECT_EQ(json_of(std::get<publish_request>(m.body).data), data);
}

TEST_P(codec_rules, publish_unicode) {
  auto m
    = ok("{\"type\":\"publish\",\"channel\":\"c\",\"data\":{\"t\":\"h\xC3\xA9llo \xF0\x9F\x98\x80"
         " \xE4\xB8\xAD\",\"k\xC3\xA9y\":1}}");
  EXPECT_EQ(json_of(std::get<publish_request>(m.body).data),
            "{\"t\":\"h\xC3\xA9llo \xF0\x9F\x98\x80 \xE4\xB8\xAD\",\"k\xC3\xA9y\":1}");
}

TEST_P(codec_rules, presence) {
  auto m = ok(R"({"type":"presence","id":3,"channel":"room:1"})");
  EXPECT_EQ(std::get<presence_request>(m.body).channel, "room:1");
  EXPECT_EQ(m.id, 3);
}

TEST_P(codec_rules, status) {
  auto m = ok(R"({"type":"status","status":"away"})");
  auto& s = std::get<status_request>(m.body);
  EXPECT_EQ(s.status, "away");
  EXPECT_FALSE(s.meta);
}

TEST_P(codec_rules, status_with_meta) {
  auto m = ok(R"({"type":"status","status":"in a meeting","meta":{"until":"15:00","n":1}})");
  auto& s = std::get<status_request>(m.body);
  EXPECT_EQ(s.status, "in a meeting");
  ASSERT_TRUE(s.meta);
  EXPECT_EQ(s.meta->format, GetParam());
  EXPECT_EQ(json_of(*s.meta), R"({"until":"15:00","n":1})");
}

TEST_P(codec_rules, status_max_length) {
  std::string status(max_status_length, 's');
  auto m = ok(R"({"type":"status","status":")" + status + "\"}");
  EXPECT_EQ(std::get<status_request>(m.body).status, status);
}

TEST_P(codec_rules, ping) {
  auto m = ok(R"({"type":"ping"})");
  EXPECT_TRUE(std::holds_alternative<ping_request>(m.body));
  EXPECT_FALSE(m.id);
}

TEST_P(codec_rules, ping_with_id) {
  EXPECT_EQ(ok(R"({"id":99,"type":"ping"})").id, 99);
}

TEST_P(codec_rules, refresh) {
  auto m = ok(R"({"type":"refresh","token":"eyJhbGciOi.x.y"})");
  EXPECT_EQ(std::get<refresh_request>(m.body).token, "eyJhbGciOi.x.y");
}

TEST_P(codec_rules, ids_negative_and_extremes) {
  EXPECT_EQ(ok(R"({"type":"ping","id":-5})").id, -5);
  EXPECT_EQ(ok(R"({"type":"ping","id":0})").id, 0);
  EXPECT_EQ(ok(R"({"type":"ping","id":9223372036854775807})").id,
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ok(R"({"type":"ping","id":-9223372036854775808})").id,
            std::numeric_limits<int64_t>::min());
}

TEST_P(codec_rules, unknown_fields_ignored) {
  auto m = ok(R"({"type":"unsubscribe","channel":"c","extra":{"x":[1]},"since":"no"})");
  EXPECT_EQ(std::get<unsubscribe_request>(m.body).channel, "c");
}

TEST_P(codec_rules, channel_at_max_length) {
  std::string ch(128, 'c');
  EXPECT_EQ(
    std::get<presence_request>(ok(R"({"type":"presence","channel":")" + ch + "\"}").body).channel,
    ch);
}

// --- frame-level errors -----------------------------------------------------------------

TEST_P(codec_rules, frame_not_an_object) {
  for (auto text : {"[1,2]", R"("ping")", "42", "null", "true"}) {
    auto e = fails(text);
    EXPECT_EQ(e.code, errc::bad_request) << text;
    EXPECT_FALSE(e.id);
  }
}

TEST_P(codec_rules, missing_type) {
  auto e = fails(R"({"id":4,"channel":"c"})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "missing field 'type'");
  EXPECT_EQ(e.id, 4);
}

TEST_P(codec_rules, type_not_a_string) {
  auto e = fails(R"({"type":5,"id":1})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'type' must be a string");
  EXPECT_EQ(e.id, 1);
}

TEST_P(codec_rules, unknown_type) {
  auto e = fails(R"({"type":"subscrbe","id":12,"channel":"c"})");
  EXPECT_EQ(e.code, errc::unknown_type);
  EXPECT_EQ(e.message, "unknown type 'subscrbe'");
  EXPECT_EQ(e.id, 12);
}

TEST_P(codec_rules, unknown_type_not_echoed_when_unprintable) {
  auto e = fails(R"({"type":"line\nbreak"})");
  EXPECT_EQ(e.code, errc::unknown_type);
  EXPECT_EQ(e.message, "unknown type");
  e = fails(R"({"type":")" + std::string(100, 'x') + "\"}");
  EXPECT_EQ(e.message, "unknown type");
}

TEST_P(codec_rules, type_is_case_sensitive) {
  EXPECT_EQ(fails(R"({"type":"PING"})").code, errc::unknown_type);
}

TEST_P(codec_rules, id_float_is_bad_request_without_id) {
  auto e = fails(R"({"type":"ping","id":1.5})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'id' must be an integer");
  EXPECT_FALSE(e.id);
  EXPECT_FALSE(fails(R"({"type":"ping","id":2.0})").id);
}

TEST_P(codec_rules, id_string_is_bad_request_without_id) {
  auto e = fails(R"({"type":"ping","id":"7"})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_FALSE(e.id);
}

TEST_P(codec_rules, id_null_bool_object_are_bad_request) {
  for (auto text : {R"({"type":"ping","id":null})", R"({"type":"ping","id":true})",
                    R"({"type":"ping","id":{}})", R"({"type":"ping","id":[1]})"}) {
    auto e = fails(text);
    EXPECT_EQ(e.code, errc::bad_request) << text;
    EXPECT_FALSE(e.id) << text;
  }
}

TEST_P(codec_rules, id_above_int64_is_bad_request) {
  auto e = fails(R"({"type":"ping","id":9223372036854775808})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_FALSE(e.id);
}

// --- channel ------------------------------------------------------------------------------

TEST_P(codec_rules, channel_missing) {
  for (auto type : {"subscribe", "unsubscribe", "publish", "presence"}) {
    auto e = fails(std::string(R"({"id":2,"type":")") + type + R"(","data":1})");
    EXPECT_EQ(e.code, errc::bad_request) << type;
    EXPECT_EQ(e.message, "missing field 'channel'") << type;
    EXPECT_EQ(e.id, 2) << type;
  }
}

TEST_P(codec_rules, channel_not_a_string) {
  for (auto type : {"subscribe", "unsubscribe", "publish", "presence"}) {
    auto e = fails(std::string(R"({"id":2,"type":")") + type + R"(","channel":["a"],"data":1})");
    EXPECT_EQ(e.code, errc::bad_request) << type;
    EXPECT_EQ(e.message, "field 'channel' must be a string") << type;
    EXPECT_EQ(e.id, 2);
  }
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":12})").code, errc::bad_request);
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":null})").code, errc::bad_request);
}

TEST_P(codec_rules, channel_invalid_characters) {
  for (auto type : {"subscribe", "unsubscribe", "publish", "presence"}) {
    auto e = fails(std::string(R"({"id":3,"type":")") + type + R"(","channel":"a b","data":1})");
    EXPECT_EQ(e.code, errc::invalid_channel) << type;
    EXPECT_EQ(e.id, 3);
  }
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":"caf\u00e9"})").code, errc::invalid_channel);
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":"a*"})").code, errc::invalid_channel);
}

TEST_P(codec_rules, channel_empty) {
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":""})").code, errc::invalid_channel);
}

TEST_P(codec_rules, channel_too_long) {
  std::string ch(129, 'c');
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":")" + ch + "\"}").code, errc::invalid_channel);
}

// --- subscribe ----------------------------------------------------------------------------

TEST_P(codec_rules, since_negative) {
  auto e = fails(R"({"type":"subscribe","id":5,"channel":"c","since":-1,"epoch":"e"})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'since' must be a non-negative integer");
  EXPECT_EQ(e.id, 5);
}

TEST_P(codec_rules, since_float) {
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":"c","since":1.5,"epoch":"e"})").code,
            errc::bad_request);
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":"c","since":2.0,"epoch":"e"})").code,
            errc::bad_request);
}

TEST_P(codec_rules, since_not_a_number) {
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":"c","since":"3","epoch":"e"})").code,
            errc::bad_request);
  EXPECT_EQ(fails(R"({"type":"subscribe","channel":"c","since":null,"epoch":"e"})").code,
            errc::bad_request);
}

TEST_P(codec_rules, since_without_epoch) {
  auto e = fails(R"({"type":"subscribe","id":6,"channel":"c","since":3})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'since' needs field 'epoch'");
  EXPECT_EQ(e.id, 6);
}

TEST_P(codec_rules, epoch_not_a_string) {
  auto e = fails(R"({"type":"subscribe","channel":"c","since":3,"epoch":4})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'epoch' must be a string");
}

// --- publish ------------------------------------------------------------------------------

TEST_P(codec_rules, publish_missing_data) {
  auto e = fails(R"({"type":"publish","id":8,"channel":"c"})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "missing field 'data'");
  EXPECT_EQ(e.id, 8);
}

// --- status -------------------------------------------------------------------------------

TEST_P(codec_rules, status_missing) {
  auto e = fails(R"({"type":"status","id":9})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "missing field 'status'");
  EXPECT_EQ(e.id, 9);
}

TEST_P(codec_rules, status_not_a_string) {
  EXPECT_EQ(fails(R"({"type":"status","status":1})").message, "field 'status' must be a string");
}

TEST_P(codec_rules, status_empty) {
  EXPECT_EQ(fails(R"({"type":"status","status":""})").code, errc::bad_request);
}

TEST_P(codec_rules, status_too_long) {
  std::string status(max_status_length + 1, 's');
  auto e = fails(R"({"type":"status","status":")" + status + "\"}");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'status' must be 1-64 bytes long");
}

TEST_P(codec_rules, meta_too_large) {
  std::string big(max_meta_bytes, 'm');
  auto e = fails(R"({"type":"status","id":10,"status":"online","meta":{"note":")" + big + "\"}}");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "field 'meta' must encode to at most 1024 bytes");
  EXPECT_EQ(e.id, 10);
}

// --- refresh ------------------------------------------------------------------------------

TEST_P(codec_rules, refresh_missing_token) {
  auto e = fails(R"({"type":"refresh","id":11})");
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(e.message, "missing field 'token'");
  EXPECT_EQ(e.id, 11);
}

TEST_P(codec_rules, refresh_empty_token) {
  EXPECT_EQ(fails(R"({"type":"refresh","token":""})").message,
            "field 'token' must be a non-empty string");
}

TEST_P(codec_rules, refresh_token_not_a_string) {
  EXPECT_EQ(fails(R"({"type":"refresh","token":{"t":1}})").code, errc::bad_request);
}

// --- nesting ------------------------------------------------------------------------------

std::string nested_publish(std::size_t levels, std::string_view innermost) {
  return R"({"type":"publish","channel":"c","data":)" + std::string(levels, '[')
         + std::string(innermost) + std::string(levels, ']') + "}";
}

TEST_P(codec_rules, nesting_at_limit) {
  // The frame's own map is level 1: 31 arrays of data make 32 levels.
  EXPECT_TRUE(std::holds_alternative<client_message>(decode(nested_publish(31, "1"))));
  // An empty container at level 33 nests nothing more; both parsers let it through.
  EXPECT_TRUE(std::holds_alternative<client_message>(decode(nested_publish(32, ""))));
}

TEST_P(codec_rules, nesting_over_limit) {
  auto e = fails(nested_publish(32, "1"));
  EXPECT_EQ(e.code, errc::bad_request);
  EXPECT_EQ(fails(nested_publish(200, "1")).code, errc::bad_request);
}

} // namespace
} // namespace plexus::actors

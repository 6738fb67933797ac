#include "actors/codec.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <simdjson.h>

#include "actors/channel_name.hpp"
#include "actors/payload.hpp"
#include "actors/server_frames.hpp"

namespace plexus::actors {
namespace {

// Random and mutated input thrown at both decoders with a fixed seed: nothing may crash,
// every call returns a decode_result, and whatever decodes satisfies the codec's promises
// (valid channel, payload convertible both ways, bounded status/meta).

constexpr uint64_t seed = 0x706c65787573; // "plexus"

const std::vector<std::string>& valid_json_frames() {
  static const std::vector<std::string> frames = {
    R"({"type":"subscribe","id":1,"channel":"room:lobby"})",
    R"({"type":"subscribe","channel":"a","since":42,"epoch":"e-7"})",
    R"({"type":"unsubscribe","id":2,"channel":"user:alice"})",
    R"({"type":"publish","id":3,"channel":"chat","data":{"text":"hello","n":[1,-2,3.5]}})",
    R"({"type":"publish","channel":"c","data":[null,true,false,"x\n\u00e9",{"k":{}}]})",
    "{\"type\":\"publish\",\"channel\":\"c\",\"data\":\"\xF0\x9F\x98\x80 \xE4\xB8\xAD\"}",
    R"({"type":"publish","channel":"c","data":18446744073709551615})",
    R"({"type":"presence","id":4,"channel":"room:1"})",
    R"({"type":"status","status":"away","meta":{"until":"15:00"}})",
    R"({"type":"status","id":5,"status":"online"})",
    R"({"type":"ping"})",
    R"({"type":"ping","id":-9223372036854775808})",
    R"({"type":"refresh","id":6,"token":"eyJhbGciOiJIUzI1NiJ9.e30.sig"})",
  };
  return frames;
}

std::string to_msgpack_frame(const std::string& json) {
  return to_msgpack(payload{wire_format::json, json});
}

bool parses_as_json(const std::string& text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element el;
  return parser.parse(text).get(el) == simdjson::SUCCESS;
}

bool unpacks_as_one_object(const std::string& bytes) {
  try {
    std::size_t off = 0;
    auto oh = msgpack::unpack(bytes.data(), bytes.size(), off);
    return off == bytes.size();
  } catch (...) {
    return false;
  }
}

void check_payload(const payload& p, wire_format f) {
  EXPECT_EQ(p.format, f);
  EXPECT_TRUE(parses_as_json(to_json(p))) << to_json(p);
  EXPECT_TRUE(unpacks_as_one_object(to_msgpack(p)));
}

void check_channel(const std::string& channel) {
  EXPECT_TRUE(valid_channel_name(channel)) << channel;
}

void check(const decode_result& r, wire_format f) {
  if (auto* e = std::get_if<decode_error>(&r)) {
    EXPECT_TRUE(e->code == errc::bad_request || e->code == errc::unknown_type
                || e->code == errc::invalid_channel)
      << to_string(e->code);
    EXPECT_FALSE(e->message.empty());
    EXPECT_EQ(e->message.find('\n'), std::string::npos);
    // The error reply must itself be valid JSON.
    auto frame = make_error(e->id, e->code, e->message, encodings::only(wire_format::json));
    EXPECT_TRUE(parses_as_json(frame->json)) << frame->json;
    return;
  }
  const auto& m = std::get<client_message>(r);
  std::visit(
    [&](const auto& body) {
      using T = std::decay_t<decltype(body)>;
      if constexpr (std::is_same_v<T, subscribe_request>) {
        check_channel(body.channel);
        EXPECT_TRUE(!body.since || body.epoch);
      } else if constexpr (std::is_same_v<
                             T, unsubscribe_request> || std::is_same_v<T, presence_request>) {
        check_channel(body.channel);
      } else if constexpr (std::is_same_v<T, publish_request>) {
        check_channel(body.channel);
        check_payload(body.data, f);
      } else if constexpr (std::is_same_v<T, status_request>) {
        EXPECT_FALSE(body.status.empty());
        EXPECT_LE(body.status.size(), max_status_length);
        if (body.meta) {
          EXPECT_LE(body.meta->bytes.size(), max_meta_bytes);
          check_payload(*body.meta, f);
        }
      } else if constexpr (std::is_same_v<T, refresh_request>) {
        EXPECT_FALSE(body.token.empty());
      }
    },
    m.body);
}

void decode_both(const std::string& bytes) {
  check(decode_client_frame(wire_format::json, bytes), wire_format::json);
  check(decode_client_frame(wire_format::msgpack, bytes), wire_format::msgpack);
}

TEST(codec_random, valid_frames_decode) {
  for (const auto& json : valid_json_frames()) {
    auto r = decode_client_frame(wire_format::json, json);
    EXPECT_TRUE(std::holds_alternative<client_message>(r)) << json;
    check(r, wire_format::json);
    auto mp = decode_client_frame(wire_format::msgpack, to_msgpack_frame(json));
    EXPECT_TRUE(std::holds_alternative<client_message>(mp)) << json;
    check(mp, wire_format::msgpack);
  }
}

TEST(codec_random, random_bytes) {
  std::mt19937_64 rng(seed);
  // Half uniform bytes; half drawn from JSON punctuation and msgpack type bytes, which get
  // further into both parsers than noise does.
  const std::string alphabet = "{}[]\":,0123456789-.eE truefalsnul\\u\x80\x81\x91\x92\xA1\xA4"
                               "\xC0\xC2\xC3\xCA\xCB\xCC\xD0\xD9\xDC\xDD\xDE\xDF\xC4\xC7\xFF";
  for (int i = 0; i < 10000; ++i) {
    std::size_t len = rng() % (i % 100 == 0 ? 4096 : 96);
    std::string bytes(len, '\0');
    for (auto& c : bytes) {
      c = i % 2 == 0 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    }
    decode_both(bytes);
  }
}

std::string mutate(std::string s, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < edits; ++k) {
    std::size_t pos = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 7) {
      case 0: // truncate
        s.resize(pos);
        break;
      case 1: // flip one bit
        if (!s.empty()) {
          s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
        }
        break;
      case 2: // overwrite a byte
        if (!s.empty()) {
          s[pos] = static_cast<char>(rng());
        }
        break;
      case 3: // insert a byte
        s.insert(pos, 1, static_cast<char>(rng()));
        break;
      case 4: // delete a byte
        if (!s.empty()) {
          s.erase(pos, 1);
        }
        break;
      case 5: // duplicate a slice
        if (!s.empty()) {
          std::size_t n = 1 + rng() % (s.size() - pos);
          s.insert(pos, s.substr(pos, n));
        }
        break;
      default: // a length/type byte set to an extreme
        if (!s.empty()) {
          static const char extremes[] = {'\x00', '\x7F', '\x80', '\xFF', '\xDD', '\xDF', '"'};
          s[pos] = extremes[rng() % sizeof(extremes)];
        }
        break;
    }
  }
  return s;
}

TEST(codec_random, mutated_valid_frames) {
  std::mt19937_64 rng(seed + 1);
  std::vector<std::string> json = valid_json_frames();
  std::vector<std::string> mp;
  for (const auto& j : json) {
    mp.push_back(to_msgpack_frame(j));
  }
  for (int i = 0; i < 10000; ++i) {
    bool use_mp = i % 2 == 1;
    const auto& pool = use_mp ? mp : json;
    auto bytes = mutate(pool[rng() % pool.size()], rng);
    decode_both(bytes);
  }
}

TEST(codec_random, every_truncation_of_valid_frames) {
  for (const auto& j : valid_json_frames()) {
    auto m = to_msgpack_frame(j);
    for (std::size_t n = 0; n < j.size(); ++n) {
      auto r = decode_client_frame(wire_format::json, j.substr(0, n));
      EXPECT_TRUE(std::holds_alternative<decode_error>(r)) << j.substr(0, n);
    }
    for (std::size_t n = 0; n < m.size(); ++n) {
      auto r = decode_client_frame(wire_format::msgpack, m.substr(0, n));
      EXPECT_TRUE(std::holds_alternative<decode_error>(r));
    }
  }
}

// --- the seed corpus of tests/fuzz/codec_fuzz.cpp -----------------------------------------
//
// Each file is one fuzz input: a format selector byte (0 = JSON, 1 = msgpack) followed by
// the frame. Names say what the codec must make of the frame: valid_* decode, invalid_* do
// not. PLEXUS_WRITE_CORPUS=1 rewrites the files from the lists below; otherwise the test
// checks the committed files against their names.

struct corpus_entry {
  std::string name;
  std::string frame;
};

std::vector<corpus_entry> json_corpus() {
  return {
    {"valid_subscribe", valid_json_frames()[1]},
    {"valid_unsubscribe", valid_json_frames()[2]},
    {"valid_publish", valid_json_frames()[3]},
    {"valid_publish_unicode", valid_json_frames()[5]},
    {"valid_presence", valid_json_frames()[7]},
    {"valid_status_meta", valid_json_frames()[8]},
    {"valid_ping", valid_json_frames()[11]},
    {"valid_refresh", valid_json_frames()[12]},
    {"invalid_truncated", R"({"type":"publish","channel":"c","data":{"a":)"},
    {"invalid_unknown_type", R"({"type":"shout","id":1})"},
    {"invalid_channel", R"({"type":"subscribe","channel":"no spaces"})"},
    {"invalid_since_without_epoch", R"({"type":"subscribe","channel":"c","since":5})"},
    {"invalid_id_float", R"({"type":"ping","id":1.5})"},
    {"invalid_not_object", R"(["type","ping"])"},
    {"invalid_utf8", "{\"type\":\"ping\",\"x\":\"\xC3\x28\"}"},
    {"invalid_too_deep", R"({"type":"publish","channel":"c","data":)" + std::string(40, '[')
                           + std::string(40, ']') + "}"},
  };
}

std::vector<corpus_entry> msgpack_corpus() {
  std::vector<corpus_entry> out;
  for (const auto& e : json_corpus()) {
    if (e.name.rfind("valid_", 0) == 0 || e.name == "invalid_unknown_type"
        || e.name == "invalid_channel" || e.name == "invalid_since_without_epoch"
        || e.name == "invalid_id_float" || e.name == "invalid_not_object") {
      out.push_back({e.name, to_msgpack_frame(e.frame)});
    }
  }
  auto ping = to_msgpack_frame(R"({"type":"ping","id":1})");
  out.push_back({"invalid_truncated", ping.substr(0, ping.size() - 1)});
  out.push_back({"invalid_trailing_bytes", ping + '\x00'});
  out.push_back({"invalid_huge_array_header", std::string("\x81\xA4"
                                                          "data"
                                                          "\xDD\xFF\xFF\xFF\xFF",
                                                          11)});
  out.push_back({"invalid_reserved_byte", std::string("\xC1")});
  out.push_back({"invalid_utf8", std::string("\x81\xA4type\xA2\xC3\x28")});
  return out;
}

std::filesystem::path corpus_dir(const char* name) {
  return std::filesystem::path(PLEXUS_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / name;
}

void write_corpus(const std::filesystem::path& dir, char selector,
                  const std::vector<corpus_entry>& entries) {
  std::filesystem::create_directories(dir);
  for (const auto& e : entries) {
    std::ofstream out(dir / e.name, std::ios::binary | std::ios::trunc);
    out.put(selector);
    out.write(e.frame.data(), static_cast<std::streamsize>(e.frame.size()));
  }
}

void check_corpus(const std::filesystem::path& dir, char selector, std::size_t expected) {
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty()) << entry.path();
    EXPECT_EQ(bytes[0], selector) << entry.path();
    auto f = selector == 0 ? wire_format::json : wire_format::msgpack;
    auto r = decode_client_frame(f, std::string_view(bytes).substr(1));
    bool valid = entry.path().filename().string().rfind("valid_", 0) == 0;
    EXPECT_EQ(std::holds_alternative<client_message>(r), valid) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, expected) << dir;
}

TEST(codec_random, fuzz_seed_corpus) {
  auto json = json_corpus();
  auto mp = msgpack_corpus();
  if (std::getenv("PLEXUS_WRITE_CORPUS") != nullptr) {
    write_corpus(corpus_dir("codec_json"), '\0', json);
    write_corpus(corpus_dir("codec_msgpack"), '\1', mp);
  }
  check_corpus(corpus_dir("codec_json"), '\0', json.size());
  check_corpus(corpus_dir("codec_msgpack"), '\1', mp.size());
}

} // namespace
} // namespace plexus::actors

// 12.x permessage-deflate round trips (RFC 7692) at the negotiated window sizes, with and
// without context takeover, compressible and incompressible, fragmented and mixed with
// uncompressed messages; 13.x negotiation outcomes, decompression bombs (-> 1009) and
// broken compressed input.
#include <zlib.h>

#include <memory>

#include "actors/deflate.hpp"
#include "tests/conformance/conformance.hpp"

namespace plexus::test::conformance {

namespace {

/// The client side of permessage-deflate: raw deflate with `bits`, the 00 00 ff ff tail
/// removed, the context reset per message when `no_context_takeover`.
class client_deflater {
public:
  client_deflater(int bits, bool no_context_takeover) : reset_(no_context_takeover) {
    deflateInit2(&zs_, Z_BEST_COMPRESSION, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY);
  }
  ~client_deflater() {
    deflateEnd(&zs_);
  }
  client_deflater(const client_deflater&) = delete;
  client_deflater& operator=(const client_deflater&) = delete;

  std::string compress(std::string_view in, bool final_block = false) {
    std::string out(deflateBound(&zs_, in.size()) + 16, '\0');
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    deflate(&zs_, final_block ? Z_FINISH : Z_SYNC_FLUSH);
    out.resize(out.size() - zs_.avail_out);
    if (!final_block && out.size() >= 4) {
      out.resize(out.size() - 4);
    }
    if (reset_ || final_block) {
      deflateReset(&zs_);
    }
    return out;
  }

private:
  z_stream zs_{};
  bool reset_;
};

/// Incompressible bytes (a fixed LCG), so compressed frames are slightly larger than the
/// message: the reader must allow for that expansion.
std::string noise(std::size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

struct round_trip {
  std::string id;
  std::string description;
  std::string offer;
  int bits = 15;
  bool no_context_takeover = false;
  bool binary_noise = false;
  std::size_t messages = 20;
  std::vector<std::size_t> sizes;
  bool mixed = false;       // every other message uncompressed
  std::size_t fragment = 0; // compressed payload split into frames of this size
};

case_def make_round_trip(const round_trip& r) {
  case_def c;
  c.id = r.id;
  c.description = r.description;
  c.extensions = r.offer;
  c.timeout = std::chrono::seconds(20);
  std::vector<std::string> payloads;
  for (auto size : r.sizes) {
    for (std::size_t i = 0; i < r.messages; ++i) {
      payloads.push_back(r.binary_noise ? noise(size, static_cast<uint32_t>(i * 31 + size))
                                        : text_payload(size));
    }
  }
  std::vector<event> expect;
  for (const auto& p : payloads) {
    expect.push_back(r.binary_noise ? binary(p) : text(p));
  }
  c.expect = echo_then_close(expect);
  c.script = [r, payloads](peer& p) {
    if (p.extensions().find("permessage-deflate") == std::string::npos) {
      p.close(1011, "permessage-deflate was not agreed");
      return;
    }
    client_deflater d(r.bits, r.no_context_takeover);
    uint8_t op = r.binary_noise ? 0x2 : 0x1;
    std::size_t i = 0;
    for (const auto& payload : payloads) {
      if (r.mixed && i++ % 2 == 1) {
        p.send(frame(op, payload));
        continue;
      }
      auto z = d.compress(payload);
      if (r.fragment == 0 || z.size() <= r.fragment) {
        p.send(frame(op, z, true, 4));
        continue;
      }
      // RSV1 only on the first frame of the message (RFC 7692 6.1).
      std::string bytes;
      for (std::size_t pos = 0; pos < z.size(); pos += r.fragment) {
        auto n = std::min(r.fragment, z.size() - pos);
        bytes
          += frame(pos == 0 ? op : 0x0, z.substr(pos, n), pos + n == z.size(), pos == 0 ? 4 : 0);
      }
      p.send(bytes);
    }
  };
  return c;
}

case_def make(std::string id, std::string description, std::string offer,
              std::function<void(peer&)> script, expectation expect) {
  case_def c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.extensions = std::move(offer);
  c.script = std::move(script);
  c.expect = std::move(expect);
  c.timeout = std::chrono::seconds(10);
  return c;
}

/// 13.1: what an offer negotiates to, then one message through the connection.
case_def negotiation(std::string id, std::string offer, bool accepted,
                     std::string must_contain = {}) {
  case_def c;
  c.id = std::move(id);
  c.description = "offer \"" + offer + "\" -> " + (accepted ? "accepted" : "declined");
  c.custom = [offer, accepted, must_contain](uint16_t port, endpoint ep) {
    auto p = peer::connect(port, {ep, offer, {}});
    if (!p->open()) {
      return outcome{verdict::failed, "upgrade refused with " + std::to_string(p->answer().status)};
    }
    auto agreed = p->extensions();
    bool got = agreed.find("permessage-deflate") != std::string::npos;
    if (got != accepted) {
      return outcome{verdict::failed, "Sec-WebSocket-Extensions: \"" + agreed + "\""};
    }
    if (!must_contain.empty() && agreed.find(must_contain) == std::string::npos) {
      return outcome{verdict::failed, "\"" + agreed + "\" lacks " + must_contain};
    }
    auto message = text_payload(300);
    if (got) {
      client_deflater d(15, false);
      p->send(frame(0x1, d.compress(message), true, 4));
    } else {
      p->send(text_frame(message));
    }
    p->finish(1, true, std::chrono::seconds(3));
    auto o = judge(*p, echo_then_close({text(message)}), ep);
    o.detail = "\"" + agreed + "\"; " + o.detail;
    return o;
  };
  return c;
}

} // namespace

std::vector<case_def> deflate_cases() {
  std::vector<case_def> out;
  const std::vector<std::size_t> sizes{16, 64, 256, 1024, 4096, 16384, 65536};
  int n = 1;
  for (auto size : sizes) {
    out.push_back(make_round_trip(
      {"12.1." + std::to_string(n++),
       "20 compressed texts of " + std::to_string(size) + " bytes, context takeover -> echoed",
       "permessage-deflate",
       15,
       false,
       false,
       20,
       {size}}));
  }
  n = 1;
  for (auto size : sizes) {
    out.push_back(make_round_trip(
      {"12.2." + std::to_string(n++),
       "20 compressed random binaries of " + std::to_string(size) + " bytes -> echoed",
       "permessage-deflate",
       15,
       false,
       true,
       20,
       {size}}));
  }
  n = 1;
  for (auto size : sizes) {
    out.push_back(make_round_trip(
      {"12.3." + std::to_string(n++),
       "client_no_context_takeover, 20 texts of " + std::to_string(size) + " bytes -> echoed",
       "permessage-deflate; client_no_context_takeover",
       15,
       true,
       false,
       20,
       {size}}));
  }
  n = 1;
  for (int bits : {9, 10, 12, 15}) {
    out.push_back(make_round_trip(
      {"12.4." + std::to_string(n++),
       "client_max_window_bits=" + std::to_string(bits) + ", texts of 16..65536 bytes -> echoed",
       "permessage-deflate; client_max_window_bits=" + std::to_string(bits), bits, false, false, 5,
       sizes}));
  }
  out.push_back(
    make_round_trip({"12.5.1", "client_max_window_bits=9 + no_context_takeover -> echoed",
                     "permessage-deflate; client_max_window_bits=9; "
                     "client_no_context_takeover",
                     9, true, false, 5, sizes}));
  out.push_back(make_round_trip({"12.5.2",
                                 "compressed and uncompressed messages alternating",
                                 "permessage-deflate",
                                 15,
                                 false,
                                 false,
                                 10,
                                 {300, 5000},
                                 true}));
  out.push_back(make_round_trip({"12.5.3",
                                 "compressed messages in frames of 100 bytes",
                                 "permessage-deflate",
                                 15,
                                 false,
                                 true,
                                 5,
                                 {1000, 20000},
                                 false,
                                 100}));
  out.push_back(make_round_trip({"12.5.4",
                                 "compressed messages in frames of 1 byte",
                                 "permessage-deflate",
                                 15,
                                 false,
                                 false,
                                 3,
                                 {64, 2000},
                                 false,
                                 1}));

  // 13.1 negotiation.
  out.push_back(negotiation("13.1.1", "permessage-deflate", true, "server_no_context_takeover"));
  out.push_back(negotiation("13.1.2", "permessage-deflate; client_max_window_bits", true));
  out.push_back(negotiation("13.1.3", "permessage-deflate; server_max_window_bits=10", false));
  out.push_back(negotiation(
    "13.1.4", "permessage-deflate; server_max_window_bits=10, permessage-deflate", true));
  out.push_back(negotiation("13.1.5", "permessage-deflate; foo=bar", false));
  out.push_back(negotiation("13.1.6", "x-webkit-deflate-frame", false));
  out.push_back(negotiation("13.1.7", "permessage-deflate; client_max_window_bits=16", false));
  out.push_back(negotiation("13.1.8",
                            "permessage-deflate; server_no_context_takeover; "
                            "server_max_window_bits=15",
                            true, "server_max_window_bits=15"));

  // 13.2 decompression bombs: small frames that inflate far past max_message_bytes.
  const auto max = node_max_message_bytes();
  auto bomb_text = actors::deflate_message(std::string(32u << 20, 'a'));
  auto bomb_zero = actors::deflate_message(std::string(64u << 20, '\0'));
  out.push_back(make(
    "13.2.1", "text bomb: 32 MiB of 'a' in " + std::to_string(bomb_text.size()) + " bytes -> 1009",
    "permessage-deflate", [bomb_text](peer& p) { p.send(frame(0x1, bomb_text, true, 4)); },
    fail_with({1009})));
  out.push_back(make(
    "13.2.2",
    "binary bomb: 64 MiB of zeros in " + std::to_string(bomb_zero.size()) + " bytes -> 1009",
    "permessage-deflate", [bomb_zero](peer& p) { p.send(frame(0x2, bomb_zero, true, 4)); },
    fail_with({1009})));
  out.push_back(make(
    "13.2.3", "text bomb in compressed fragments of 1024 bytes -> 1009", "permessage-deflate",
    [bomb_text](peer& p) {
      std::string bytes;
      for (std::size_t pos = 0; pos < bomb_text.size(); pos += 1024) {
        auto k = std::min<std::size_t>(1024, bomb_text.size() - pos);
        bytes += frame(pos == 0 ? 0x1 : 0x0, bomb_text.substr(pos, k), pos + k == bomb_text.size(),
                       pos == 0 ? 4 : 0);
      }
      p.send(bytes);
    },
    fail_with({1009})));
  out.push_back(make(
    "13.2.4", "a message building context, then a bomb using it -> echo, 1009",
    "permessage-deflate",
    [](peer& p) {
      client_deflater d(15, false);
      p.send(frame(0x1, d.compress(text_payload(1000)), true, 4));
      p.wait(std::chrono::milliseconds(50));
      p.send(frame(0x1, d.compress(std::string(8u << 20, 'H')), true, 4));
    },
    fail_with({1009}, {text(text_payload(1000))})));
  auto at_limit = std::string(max, 'x');
  auto over_limit = std::string(max + 1, 'x');
  out.push_back(make(
    "13.2.5", "inflates to exactly max_message_bytes -> echo", "permessage-deflate",
    [at_limit](peer& p) {
      client_deflater d(15, false);
      p.send(frame(0x1, d.compress(at_limit), true, 4));
    },
    echo_then_close({text(at_limit)})));
  out.push_back(make(
    "13.2.6", "inflates to max_message_bytes + 1 -> 1009", "permessage-deflate",
    [over_limit](peer& p) {
      client_deflater d(15, false);
      p.send(frame(0x1, d.compress(over_limit), true, 4));
    },
    fail_with({1009})));

  // 13.3 broken compressed input.
  out.push_back(make(
    "13.3.1", "RSV1 frame that is not deflate data -> fail 1007", "permessage-deflate",
    [](peer& p) { p.send(frame(0x1, "\xff\xff\xff\xff not deflate", true, 4)); },
    fail_with({1007})));
  out.push_back(make(
    "13.3.2", "RSV1 on a continuation frame -> fail 1002", "permessage-deflate",
    [](peer& p) { p.send(text_frame("fragment1", false) + frame(0x0, "fragment2", true, 4)); },
    fail_with({1002})));
  out.push_back(make(
    "13.3.3", "RSV1 on a ping -> fail 1002", "permessage-deflate",
    [](peer& p) { p.send(frame(0x9, "", true, 4)); }, fail_with({1002})));
  out.push_back(make(
    "13.3.4", "compressed text that inflates to invalid UTF-8 -> fail 1007", "permessage-deflate",
    [](peer& p) {
      client_deflater d(15, false);
      p.send(frame(0x1, d.compress("kosme \xed\xa0\x80 edited"), true, 4));
    },
    fail_with({1007})));
  out.push_back(make(
    "13.3.5", "compressed message ending in a BFINAL block -> echo", "permessage-deflate",
    [](peer& p) {
      client_deflater d(15, false);
      p.send(frame(0x1, d.compress("final block", true), true, 4));
      p.send(frame(0x1, d.compress("after the final block"), true, 4));
    },
    echo_then_close({text("final block"), text("after the final block")})));
  out.push_back(make(
    "13.3.6", "RSV1 without an agreed extension -> fail 1002", "",
    [](peer& p) {
      client_deflater d(15, false);
      p.send(frame(0x1, d.compress("not agreed"), true, 4));
    },
    fail_with({1002})));
  return out;
}

} // namespace plexus::test::conformance

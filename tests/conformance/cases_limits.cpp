// 9.x limits: messages up to max_message_bytes (one frame, many fragments) are echoed; one
// byte more fails with 1009 as soon as a frame header declares it, before its payload or
// the rest of the message arrives; absurd length headers (2^63, 2^63 - 1, 2^32, 1 GiB) are
// refused without allocating; many pipelined messages come back in order.
#include <algorithm>

#include "tests/conformance/conformance.hpp"
#include "tests/conformance/memory.hpp"
#include "tests/support/ws_test_frames.hpp"

namespace plexus::test::conformance {

namespace {

case_def make(std::string id, std::string description, std::function<void(peer&)> script,
              expectation expect) {
  return scripted(std::move(id), std::move(description), std::move(script), std::move(expect),
                  std::chrono::seconds(10));
}

/// A frame header declaring `length` bytes, and then at most `send` of them; the server must
/// fail the connection with one of `codes` before the payload arrives, and the process's
/// peak RSS must not grow by anything near `length`.
case_def huge_header(std::string id, std::string description, uint64_t length, std::size_t send,
                     std::vector<uint16_t> codes) {
  case_def c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.custom = [length, send, codes](uint16_t port, endpoint ep) {
    auto p = peer::connect(port, {ep, {}, {}});
    if (!p->open()) {
      return outcome{verdict::failed, "upgrade refused"};
    }
    // Made before the measurement: only the node's growth counts.
    const std::string header = client_header(0x82, length);
    const std::string body(send, 'x');
    reset_peak_rss();
    auto before = memory_kb("VmRSS");
    p->send(header);
    p->wait(std::chrono::milliseconds(200));
    p->checkpoint("A"); // the payload would start here: the server must have failed already
    p->send(body);
    p->finish(0, false, std::chrono::seconds(3));
    auto growth = memory_kb("VmHWM") - before;
    auto e = fail_with(codes);
    e.non_strict = {{timeout("A")}};
    auto o = judge(*p, e, ep);
    o.detail += "; peak RSS +" + std::to_string(growth) + " KiB";
    if (growth > 1024) {
      o.v = verdict::failed;
      o.detail += " (over 1 MiB: the header was allocated for)";
    }
    return o;
  };
  return c;
}

} // namespace

std::vector<case_def> limit_cases() {
  std::vector<case_def> out;
  const auto max = node_max_message_bytes();
  const auto max_text = std::to_string(max);
  auto text_max = text_payload(max);
  auto text_over = text_payload(max + 1);
  auto binary_max = binary_payload(max);
  auto binary_over = binary_payload(max + 1);
  out.push_back(make(
    "9.1.1", "text of max_message_bytes (" + max_text + ") in one frame -> echo",
    [text_max](peer& p) { p.send(text_frame(text_max)); }, echo_then_close({text(text_max)})));
  out.push_back(make(
    "9.1.2", "text of max_message_bytes + 1 in one frame -> fail 1009",
    [text_over](peer& p) { p.send(text_frame(text_over)); }, fail_with({1009})));
  out.push_back(make(
    "9.1.3", "binary of max_message_bytes in one frame -> echo",
    [binary_max](peer& p) { p.send(binary_frame(binary_max)); },
    echo_then_close({binary(binary_max)})));
  out.push_back(make(
    "9.1.4", "binary of max_message_bytes + 1 in one frame -> fail 1009",
    [binary_over](peer& p) { p.send(binary_frame(binary_over)); }, fail_with({1009})));
  int n = 1;
  for (std::size_t size : {64, 256, 1024, 4096, 16384}) {
    out.push_back(make(
      "9.2." + std::to_string(n++),
      "text of max_message_bytes in fragments of " + std::to_string(size) + " -> echo",
      [text_max, size](peer& p) { p.send(fragments(0x1, text_max, size)); },
      echo_then_close({text(text_max)})));
  }
  // One byte over, in fragments: the fragment that passes the limit fails the connection
  // at its header; the final fragment never matters.
  n = 1;
  for (std::size_t size : {1024, 16384}) {
    out.push_back(make(
      "9.3." + std::to_string(n++),
      "max_message_bytes + 1 in fragments of " + std::to_string(size)
        + ", unfinished -> 1009 before the end",
      [binary_over, size](peer& p) {
        // The whole message with the final frame's FIN cleared; then, after a
        // pause, an empty final continuation.
        std::string bytes;
        std::size_t pos = 0;
        while (pos < binary_over.size()) {
          auto k = std::min(size, binary_over.size() - pos);
          bytes += frame(pos == 0 ? 0x2 : 0x0, binary_over.substr(pos, k), false);
          pos += k;
        }
        p.send(bytes);
        p.wait(std::chrono::milliseconds(200));
        p.checkpoint("A");
        p.send(continuation(""));
      },
      [] {
        auto e = fail_with({1009});
        e.non_strict = {{timeout("A")}};
        return e;
      }()));
  }
  out.push_back(huge_header("9.4.1", "binary header declaring 2^63 bytes -> 1002/1009, no alloc",
                            uint64_t{1} << 63, 4096, {1002, 1009}));
  out.push_back(huge_header("9.4.2", "binary header declaring 2^63 - 1 bytes -> 1009, no alloc",
                            (uint64_t{1} << 63) - 1, 4096, {1009}));
  out.push_back(huge_header("9.4.3", "binary header declaring 2^32 bytes -> 1009, no alloc",
                            uint64_t{1} << 32, 4096, {1009}));
  out.push_back(huge_header("9.4.4", "binary header declaring 1 GiB, 1 MiB sent -> 1009",
                            uint64_t{1} << 30, 1u << 20, {1009}));

  // Pipelined messages: every one echoed, in order.
  auto many = [](std::string id, std::size_t count, std::size_t size, bool bin) {
    std::string bytes;
    std::vector<event> expect;
    for (std::size_t i = 0; i < count; ++i) {
      auto payload = (bin ? binary_payload(size) : text_payload(size)).substr(0, size - 8)
                     + std::to_string(10000000 + i);
      bytes += bin ? binary_frame(payload) : text_frame(payload);
      expect.push_back(bin ? binary(payload) : text(payload));
    }
    auto c = make(
      std::move(id),
      std::to_string(count) + (bin ? " binary" : " text") + " messages of " + std::to_string(size)
        + " bytes in one write -> all echoed in order",
      [bytes](peer& p) { p.send(bytes); }, echo_then_close(expect));
    c.echo_only = true; // /ws would rate-limit a burst like this (as it should)
    return c;
  };
  out.push_back(many("9.5.1", 1000, 64, false));
  out.push_back(many("9.5.2", 100, 4096, true));
  out.push_back(many("9.5.3", 10, 60000, false));
  return out;
}

} // namespace plexus::test::conformance

// 1.x framing (text and binary messages at the length-encoding edges, sent whole and in
// TCP chops) and 2.x pings and pongs.
#include <algorithm>

#include "tests/conformance/conformance.hpp"

namespace plexus::test::conformance {

namespace {

/// 2.10/2.11: a flood of pings. All answered in order is OK; RFC 6455 5.5.3 lets an
/// endpoint answer only the most recent ping when several arrived before it could pong, so
/// answered pings in order ending with the last one is NON-STRICT.
case_def ping_flood(std::string id, std::string description, std::size_t chop,
                    std::size_t count = 10) {
  case_def c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.custom = [chop, count](uint16_t port, endpoint ep) {
    auto p = peer::connect(port, {ep, {}, {}});
    if (!p->open()) {
      return outcome{verdict::failed, "upgrade refused"};
    }
    std::vector<std::string> payloads;
    std::string bytes;
    for (std::size_t i = 0; i < count; ++i) {
      payloads.push_back("payload-" + std::to_string(i));
      bytes += ping_frame(payloads.back());
    }
    p->send_chopped(bytes, chop);
    // Wait until the pong of the last ping arrived (or give up after 2 s).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline
           && (p->received.empty() || !(p->received.back() == pong(payloads.back())))
           && !p->server_failed()) {
      p->wait(std::chrono::milliseconds(20));
    }
    p->close(1000);
    p->finish(0, false, std::chrono::seconds(2));
    // Judge the close like every case; the events separately.
    auto o = judge(*p, echo_then_close(p->received), ep);
    if (o.v == verdict::failed) {
      return o;
    }
    std::size_t next = 0;
    for (const auto& e : p->received) {
      auto it = std::find_if(payloads.begin() + static_cast<std::ptrdiff_t>(next), payloads.end(),
                             [&](const std::string& s) { return e == pong(s); });
      if (it == payloads.end()) {
        return outcome{verdict::failed, "unexpected or out-of-order event " + describe({e})};
      }
      next = static_cast<std::size_t>(it - payloads.begin()) + 1;
    }
    if (p->received.size() == payloads.size()) {
      return outcome{verdict::ok, std::to_string(count) + " pongs in order; " + o.detail};
    }
    if (!p->received.empty() && p->received.back() == pong(payloads.back())) {
      return outcome{verdict::non_strict, std::to_string(p->received.size()) + " of "
                                            + std::to_string(count)
                                            + " pongs, the latest answered; " + o.detail};
    }
    return outcome{verdict::failed, "the latest ping was not answered: " + describe(p->received)};
  };
  return c;
}

} // namespace

std::vector<case_def> framing_cases() {
  std::vector<case_def> out;
  // 1.1 text, 1.2 binary: the 7-bit, 16-bit and 64-bit length encodings and their edges.
  const std::size_t lengths[] = {0, 125, 126, 127, 128, 65535, 65536};
  for (int binary_case = 0; binary_case < 2; ++binary_case) {
    std::string group = binary_case ? "1.2." : "1.1.";
    std::string kind = binary_case ? "binary" : "text";
    int n = 1;
    for (auto len : lengths) {
      auto payload = binary_case ? binary_payload(len) : text_payload(len);
      auto bytes = binary_case ? binary_frame(payload) : text_frame(payload);
      auto expect = binary_case ? binary(payload) : text(payload);
      out.push_back(scripted(
        group + std::to_string(n++),
        "send " + kind + " message of " + std::to_string(len) + " bytes",
        [bytes](peer& p) { p.send(bytes); }, echo_then_close({expect})));
    }
    // The same messages arriving in TCP pieces of various sizes.
    const std::pair<std::size_t, std::size_t> chopped[]
      = {{65536, 997}, {65535, 100}, {4096, 1}, {128, 3}};
    for (auto [len, chop] : chopped) {
      auto payload = binary_case ? binary_payload(len) : text_payload(len);
      auto bytes = binary_case ? binary_frame(payload) : text_frame(payload);
      auto expect = binary_case ? binary(payload) : text(payload);
      auto c = scripted(
        group + std::to_string(n++),
        "send " + kind + " message of " + std::to_string(len) + " bytes in " + std::to_string(chop)
          + "-byte chops",
        [bytes, chop = chop](peer& p) { p.send_chopped(bytes, chop); }, echo_then_close({expect}));
      c.timeout = std::chrono::seconds(10);
      out.push_back(std::move(c));
    }
  }

  // 2.x pings and pongs.
  const std::string binary8 = std::string("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8);
  out.push_back(scripted(
    "2.1", "ping without payload -> pong without payload", [](peer& p) { p.send(ping_frame("")); },
    echo_then_close({pong("")})));
  out.push_back(scripted(
    "2.2", "ping with a small text payload -> pong with it",
    [](peer& p) { p.send(ping_frame("Hello, world!")); },
    echo_then_close({pong("Hello, world!")})));
  out.push_back(scripted(
    "2.3", "ping with a small binary payload -> pong with it",
    [binary8](peer& p) { p.send(ping_frame(binary8)); }, echo_then_close({pong(binary8)})));
  auto p125 = binary_payload(125);
  out.push_back(scripted(
    "2.4", "ping with a 125-byte binary payload -> pong with it",
    [p125](peer& p) { p.send(ping_frame(p125)); }, echo_then_close({pong(p125)})));
  auto p126 = binary_payload(126);
  out.push_back(scripted(
    "2.5", "ping with a 126-byte payload -> fail 1002",
    [p126](peer& p) { p.send(ping_frame(p126)); }, fail_with({1002})));
  out.push_back(scripted(
    "2.6", "ping with a 125-byte payload in 1-byte chops -> pong",
    [p125](peer& p) { p.send_chopped(ping_frame(p125), 1); }, echo_then_close({pong(p125)})));
  out.push_back(scripted(
    "2.7", "unsolicited pong without payload -> nothing", [](peer& p) { p.send(pong_frame("")); },
    echo_then_close({})));
  out.push_back(scripted(
    "2.8", "unsolicited pong with payload -> nothing",
    [](peer& p) { p.send(pong_frame("unsolicited pong payload")); }, echo_then_close({})));
  out.push_back(scripted(
    "2.9", "unsolicited pong, then ping -> pong for the ping only",
    [](peer& p) {
      p.send(pong_frame("unsolicited pong payload"));
      p.send(ping_frame("ping payload"));
    },
    echo_then_close({pong("ping payload")})));
  out.push_back(
    ping_flood("2.10", "10 pings flooded -> all pongs in order (or the latest)", 1 << 20));
  out.push_back(ping_flood("2.11", "10 pings in 1-byte chops -> pongs (or the latest)", 1));
  // A backlog of pongs is capped (ws_connection): past it only the latest is answered.
  out.push_back(
    ping_flood("2.12", "1000 pings flooded -> pongs in order, the latest answered", 1 << 20, 1000));
  return out;
}

} // namespace plexus::test::conformance

// 7.x close handling (what follows a close is ignored; close payload rules; valid and
// invalid close codes) and the opening handshake rules of RFC 6455 4.2.1 (7.13, our own
// numbering: Autobahn does not test a server's handshake).
#include "tests/conformance/conformance.hpp"

namespace plexus::test::conformance {

namespace {

/// The client closes with `frame_bytes`; the server must answer with one of `codes`.
expectation client_closes(std::vector<uint16_t> codes, bool clean) {
  expectation e;
  e.closed_by_me = true;
  e.close_codes = std::move(codes);
  e.require_clean = clean;
  return e;
}

std::string raw_close(std::string_view payload) {
  return frame(0x8, payload);
}

std::string code_bytes(uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

/// A handshake request that must be refused. `status`: the expected answer; another
/// non-101 refusal is NON-STRICT. `version_header`: the refusal must list version 13.
case_def refused(std::string id, std::string description, std::string request, int status,
                 bool version_header = false) {
  case_def c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.custom = [request, status, version_header](uint16_t port, endpoint ep) {
    std::string text = request;
    auto at = text.find("PATH");
    if (at != std::string::npos) {
      text.replace(at, 4, to_string(ep));
    }
    auto p = peer::connect_raw(port, text, ep);
    auto got = p->answer().status;
    std::string detail = "HTTP " + std::to_string(got);
    if (got == 101) {
      return outcome{verdict::failed, detail + ": the upgrade was accepted"};
    }
    if (got == 0) {
      return outcome{verdict::non_strict, "no HTTP answer (connection dropped)"};
    }
    if (version_header && p->answer().header("sec-websocket-version") != "13") {
      return outcome{verdict::non_strict, detail + " without Sec-WebSocket-Version: 13"};
    }
    if (got != status) {
      return outcome{verdict::non_strict, detail + " (expected " + std::to_string(status) + ")"};
    }
    return outcome{verdict::ok, detail};
  };
  return c;
}

std::string request(const std::string& first_line, const std::string& headers) {
  return first_line + "\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

} // namespace

std::vector<case_def> close_cases() {
  std::vector<case_def> out;
  out.push_back(scripted(
    "7.1.1", "text, then close -> echo, clean close",
    [](peer& p) {
      p.send(text_frame("Hello World"));
      p.wait(std::chrono::milliseconds(50));
    },
    echo_then_close({text("Hello World")})));
  out.push_back(scripted(
    "7.1.2", "close twice -> the second is ignored, clean close",
    [](peer& p) {
      p.close(1000);
      p.send(close_frame(1000));
    },
    client_closes({1000}, true)));
  out.push_back(scripted(
    "7.1.3", "close, then ping -> no pong, clean close",
    [](peer& p) {
      p.close(1000);
      p.send(ping_frame("Hello World"));
    },
    client_closes({1000}, true)));
  out.push_back(scripted(
    "7.1.4", "close, then text -> not echoed, clean close",
    [](peer& p) {
      p.close(1000);
      p.send(text_frame("Hello World"));
    },
    client_closes({1000}, true)));
  out.push_back(scripted(
    "7.1.5", "text fragment, close, continuation -> nothing echoed",
    [](peer& p) {
      p.send(text_frame("fragment1", false));
      p.close(1000);
      p.send(continuation("fragment2"));
    },
    client_closes({1000}, true)));
  auto big = text_payload(60000);
  auto c716 = scripted(
    "7.1.6", "60000-byte text, close, ping -> echo (may be dropped), no pong",
    [big](peer& p) {
      p.send(text_frame(big));
      p.close(1000);
      p.send(ping_frame("Hello World"));
    },
    client_closes({1000}, true));
  c716.expect.ok = {text(big)};
  c716.expect.non_strict = {{}};
  out.push_back(c716);

  // 7.3 close payloads.
  out.push_back(scripted(
    "7.3.1", "close without payload -> clean close", [](peer& p) { p.close_raw(raw_close("")); },
    client_closes({1000, 1005}, true)));
  out.push_back(scripted(
    "7.3.2", "close with a 1-byte payload -> fail 1002",
    [](peer& p) { p.close_raw(raw_close("\x03")); }, client_closes({1002}, false)));
  out.push_back(scripted(
    "7.3.3", "close 1000 without reason -> clean, 1000", [](peer& p) { p.close(1000); },
    client_closes({1000}, true)));
  out.push_back(scripted(
    "7.3.4", "close 1000 with a reason -> clean, 1000",
    [](peer& p) { p.close(1000, "Hello World!"); }, client_closes({1000}, true)));
  out.push_back(scripted(
    "7.3.5", "close 1000 with a 123-byte reason -> clean, 1000",
    [](peer& p) { p.close_raw(raw_close(code_bytes(1000) + std::string(123, '*'))); },
    client_closes({1000}, true)));
  out.push_back(scripted(
    "7.3.6", "close with a 124-byte reason (126-byte payload) -> fail 1002",
    [](peer& p) { p.close_raw(raw_close(code_bytes(1000) + std::string(124, '*'))); },
    client_closes({1002}, false)));
  out.push_back(scripted(
    "7.5.1", "close reason with invalid UTF-8 -> fail 1007",
    [](peer& p) {
      p.close_raw(raw_close(code_bytes(1000)
                            + "\xce\xba\xe1\xbd\xb9\xcf\x83\xce"
                              "\xbc\xce\xb5\xed\xa0\x80"
                              "edited"));
    },
    client_closes({1007}, false)));

  // 7.7 codes a peer may send: echoed (or answered with 1000), clean.
  int n = 1;
  for (uint16_t code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    out.push_back(scripted(
      "7.7." + std::to_string(n++), "close with code " + std::to_string(code) + " -> clean, echoed",
      [code](peer& p) { p.close(code); }, client_closes({1000, code}, true)));
  }
  // 7.9 codes a peer must not send (reserved, or 1005/1006/1015 which only describe a
  // close locally): fail 1002; another code fails the case (as in Autobahn).
  n = 1;
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    auto e = client_closes({1002}, false);
    e.wrong_code_fails = true;
    out.push_back(scripted(
      "7.9." + std::to_string(n++),
      "close with invalid code " + std::to_string(code) + " -> fail 1002",
      [code](peer& p) { p.close_raw(raw_close(code_bytes(code))); }, e));
  }

  // 7.13 the opening handshake (RFC 6455 4.2.1, 4.4): malformed upgrades are refused.
  const std::string good = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const std::string v13 = "Sec-WebSocket-Version: 13\r\n";
  out.push_back(refused("7.13.1", "POST upgrade request -> 400",
                        request("POST PATH HTTP/1.1", good + v13 + "Content-Length: 0\r\n"), 400));
  out.push_back(refused("7.13.2", "Sec-WebSocket-Version: 12 -> 400/426 listing 13",
                        request("GET PATH HTTP/1.1", good + "Sec-WebSocket-Version: 12\r\n"), 400,
                        true));
  out.push_back(refused("7.13.3", "no Sec-WebSocket-Version -> 400/426 listing 13",
                        request("GET PATH HTTP/1.1", good), 400, true));
  out.push_back(refused(
    "7.13.4", "no Sec-WebSocket-Key -> 400",
    request("GET PATH HTTP/1.1", "Upgrade: websocket\r\nConnection: Upgrade\r\n" + v13), 400));
  out.push_back(refused("7.13.5", "Sec-WebSocket-Key of 10 bytes -> 400",
                        request("GET PATH HTTP/1.1", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n"
                                                       + v13),
                        400));
  out.push_back(
    refused("7.13.6", "no Upgrade header -> 400",
            request("GET PATH HTTP/1.1", "Connection: Upgrade\r\n"
                                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                           + v13),
            400));
  out.push_back(
    refused("7.13.7", "Connection: keep-alive (no upgrade token) -> 400",
            request("GET PATH HTTP/1.1", "Upgrade: websocket\r\nConnection: keep-alive\r\n"
                                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                           + v13),
            400));
  out.push_back(refused("7.13.8", "HTTP/1.0 upgrade request -> refused",
                        request("GET PATH HTTP/1.0", good + v13), 400));
  case_def accept;
  accept.id = "7.13.9";
  accept.description = "mixed-case tokens, keep-alive + Upgrade -> 101 with the RFC accept key";
  accept.custom = [good, v13](uint16_t port, endpoint ep) {
    auto p = peer::connect_raw(port,
                               request(std::string{"GET "} + to_string(ep) + " HTTP/1.1",
                                       "Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                         + v13),
                               ep);
    if (p->answer().status != 101) {
      return outcome{verdict::failed, "HTTP " + std::to_string(p->answer().status)};
    }
    // RFC 6455 1.3's example key and answer.
    if (p->answer().header("sec-websocket-accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
      return outcome{verdict::failed, "wrong Sec-WebSocket-Accept"};
    }
    p->close(1000);
    p->finish(0, false, std::chrono::seconds(2));
    return judge(*p, echo_then_close({}), ep);
  };
  out.push_back(accept);
  return out;
}

} // namespace plexus::test::conformance

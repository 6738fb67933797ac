#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/conformance/peer.hpp"

// A WebSocket conformance suite after the Autobahn|Testsuite (which needs Python 2 and
// Docker, neither available here): the same case groups, numbered like Autobahn's where a
// case has an Autobahn counterpart, and the same verdict rules:
//
//   OK          the events the peer saw match the strict expectation, and the connection
//               was closed by the expected side, cleanly when that is required, with an
//               expected close code (or none)
//   NON-STRICT  the events match an accepted alternative (e.g. the server failed the
//               connection before echoing what came before the violation), or the close
//               code differs from the expected ones while the connection still closed
//   FAILED      anything else: wrong events, no close, the wrong side closing, an unclean
//               close where the RFC requires a clean one, the server breaking the protocol
//
// Cases run against /ws/echo and, unless `echo_only`, against /ws too, where each data
// message gets exactly one reply instead of an echo (so message payloads are not compared
// there). Only FAILED fails the test; the binary prints Autobahn's summary table at the end
// and writes it to conformance-report.txt in the build directory.

namespace plexus::test::conformance {

enum class verdict { ok, non_strict, failed };
const char* to_string(verdict v);

/// What a case expects (Autobahn's `expected` and `expectedClose`).
struct expectation {
  std::vector<event> ok;
  std::vector<std::vector<event>> non_strict;
  bool closed_by_me = true; // the client starts the closing handshake after `ok`
  std::vector<uint16_t> close_codes{1000};
  bool require_clean = true;
  /// Autobahn 7.9: a close code outside `close_codes` fails the case instead of NON-STRICT.
  bool wrong_code_fails = false;
};

/// The events, then the client closes with 1000 and the server must echo cleanly.
expectation echo_then_close(std::vector<event> events);
/// The server must fail the connection with one of `codes` (or drop it without a close
/// frame, which Autobahn accepts), after `before`; failing before those arrived is
/// NON-STRICT.
expectation fail_with(std::vector<uint16_t> codes, std::vector<event> before = {});

struct outcome {
  verdict v = verdict::failed;
  std::string detail;
};

struct case_def {
  std::string id;          // "1.1.1"
  std::string description; // what is sent and what is expected, one line
  std::string extensions;  // Sec-WebSocket-Extensions offer
  bool echo_only = false;  // the case's point is the echoed payload
  std::chrono::milliseconds timeout{3000};
  std::function<void(peer&)> script;
  expectation expect;
  /// A case that does its own connecting and judging (handshake and limit cases).
  std::function<outcome(uint16_t port, endpoint ep)> custom;
};

/// Autobahn's verdict for what `p` saw against `e`.
outcome judge(const peer& p, const expectation& e, endpoint ep);
/// Connects, runs the script, finishes the close and judges.
outcome run(const case_def& c, uint16_t port, endpoint ep);

/// A case that connects, runs `script` and is judged against `expect`.
case_def scripted(std::string id, std::string description, std::function<void(peer&)> script,
                  expectation expect,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

/// How a case's frames reach the server: in one write, one write per frame with a pause
/// (Autobahn's "sync"), or in 1-byte chops.
enum class pacing { together, frame_wise, octet_wise };
/// ", frame-wise" / ", in 1-byte chops" / "" for a case's description.
const char* pacing_text(pacing how);
void send_frames(peer& p, const std::vector<std::string>& frames, pacing how,
                 std::chrono::milliseconds pause);

// -- the case groups (one file each) ----------------------------------------------------

std::vector<case_def> framing_cases();       // 1.x framing, 2.x ping/pong
std::vector<case_def> reserved_cases();      // 3.x reserved bits, 4.x opcodes
std::vector<case_def> fragmentation_cases(); // 5.x
std::vector<case_def> utf8_cases();          // 6.x
std::vector<case_def> close_cases();         // 7.x close and handshake
std::vector<case_def> limit_cases();         // 9.x
std::vector<case_def> deflate_cases();       // 12.x, 13.x permessage-deflate
std::vector<case_def> all_cases();

// -- the shared node and the report ------------------------------------------------------

/// The port of the node every case runs against (started by the test environment).
uint16_t node_port();
/// max_message_bytes of that node.
std::size_t node_max_message_bytes();

void record(const case_def& c, endpoint ep, const outcome& o);
/// A free-form line printed under the table (memory measurements).
void record_note(const std::string& line);
void print_report(std::ostream& out);

// -- frame builders (masked, as a client sends them) ---------------------------------------

std::string frame(uint8_t opcode, std::string_view payload, bool fin = true, uint8_t rsv = 0);
std::string text_frame(std::string_view payload, bool fin = true);
std::string binary_frame(std::string_view payload, bool fin = true);
std::string continuation(std::string_view payload, bool fin = true);
std::string ping_frame(std::string_view payload);
std::string pong_frame(std::string_view payload);
std::string close_frame(uint16_t code, std::string_view reason = {});
/// `payload` split into frames of `size` bytes (the first `op`, then continuations).
std::string fragments(uint8_t op, std::string_view payload, std::size_t size);
/// `n` bytes of printable text / of every byte value in turn.
std::string text_payload(std::size_t n);
std::string binary_payload(std::size_t n);

} // namespace plexus::test::conformance

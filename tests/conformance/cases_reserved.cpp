// 3.x reserved bits (RSV1-3 without an extension that defines them) and 4.x reserved
// opcodes (3-7 data, 11-15 control): each must fail the connection with 1002. When a valid
// message came first, echoing it before failing is OK and failing at once is NON-STRICT.
#include "tests/conformance/conformance.hpp"

namespace plexus::test::conformance {

namespace {

case_def violation(std::string id, std::string description, std::vector<std::string> frames,
                   bool echo_first, pacing how = pacing::together) {
  case_def c;
  c.id = std::move(id);
  c.description = description + pacing_text(how) + " -> fail 1002";
  c.script = [frames, how](peer& p) { send_frames(p, frames, how, std::chrono::milliseconds(20)); };
  c.expect = fail_with({1002}, echo_first ? std::vector<event>{text("Hello, plexus!")}
                                          : std::vector<event>{});
  return c;
}

} // namespace

std::vector<case_def> reserved_cases() {
  std::vector<case_def> out;
  const std::string hello = "Hello, plexus!";
  out.push_back(
    violation("3.1", "text with RSV1 (no extension agreed)", {frame(0x1, hello, true, 4)}, false));
  out.push_back(violation("3.2", "text, then text with RSV2, then ping",
                          {text_frame(hello), frame(0x1, hello, true, 2), ping_frame("")}, true));
  out.push_back(violation("3.3", "text, then text with RSV1+2, then ping",
                          {text_frame(hello), frame(0x1, hello, true, 6), ping_frame("")}, true,
                          pacing::frame_wise));
  out.push_back(violation("3.4", "text, then text with RSV3, then ping",
                          {text_frame(hello), frame(0x1, hello, true, 1), ping_frame("")}, true,
                          pacing::octet_wise));
  out.push_back(
    violation("3.5", "binary with RSV1+3", {frame(0x2, binary_payload(8), true, 5)}, false));
  out.push_back(violation("3.6", "ping with RSV2+3", {frame(0x9, hello, true, 3)}, false));
  out.push_back(violation("3.7", "close with RSV1+2+3",
                          {frame(0x8, std::string("\x03\xe8", 2), true, 7)}, false));

  // 4.1 reserved data opcodes, 4.2 reserved control opcodes.
  int n = 0;
  for (uint8_t base : {uint8_t{3}, uint8_t{11}}) {
    std::string group = base == 3 ? "4.1." : "4.2.";
    n = 1;
    auto op = [&](int k) { return static_cast<uint8_t>(base + k); };
    auto name = [&](int k) { return "opcode " + std::to_string(op(k)); };
    out.push_back(violation(group + std::to_string(n++), name(0) + " without payload",
                            {frame(op(0), "")}, false));
    out.push_back(violation(group + std::to_string(n++), name(1) + " with payload",
                            {frame(op(1), "reserved opcode payload")}, false));
    out.push_back(violation(group + std::to_string(n++), "text, then " + name(2) + ", then ping",
                            {text_frame(hello), frame(op(2), ""), ping_frame("")}, true,
                            pacing::frame_wise));
    out.push_back(violation(
      group + std::to_string(n++), "text, then " + name(3) + " with payload, then ping",
      {text_frame(hello), frame(op(3), "reserved"), ping_frame("")}, true, pacing::frame_wise));
    out.push_back(violation(
      group + std::to_string(n++), "text, then " + name(4) + " with payload, then ping",
      {text_frame(hello), frame(op(4), "reserved"), ping_frame("")}, true, pacing::octet_wise));
  }
  return out;
}

} // namespace plexus::test::conformance

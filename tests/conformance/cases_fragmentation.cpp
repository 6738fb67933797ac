// 5.x fragmentation: fragmented control frames, messages in fragments (down to 1 byte, with
// pings between them), continuations without a message, a new message inside another.
#include "tests/conformance/conformance.hpp"

namespace plexus::test::conformance {

namespace {

case_def make(std::string id, std::string description, std::vector<std::string> frames, pacing how,
              expectation expect) {
  auto script
    = [frames, how](peer& p) { send_frames(p, frames, how, std::chrono::milliseconds(10)); };
  return scripted(std::move(id), description + pacing_text(how), script, std::move(expect),
                  std::chrono::seconds(10));
}

} // namespace

std::vector<case_def> fragmentation_cases() {
  std::vector<case_def> out;
  const pacing all_three[] = {pacing::together, pacing::octet_wise, pacing::frame_wise};
  out.push_back(make("5.1", "ping in 2 fragments -> fail 1002",
                     {frame(0x9, "frag", false), continuation("ment")}, pacing::together,
                     fail_with({1002})));
  out.push_back(make("5.2", "pong in 2 fragments -> fail 1002",
                     {frame(0xA, "frag", false), continuation("ment")}, pacing::together,
                     fail_with({1002})));
  int n = 3;
  for (auto how : all_three) {
    out.push_back(make("5." + std::to_string(n++), "text in 2 fragments -> echo",
                       {text_frame("fragment1", false), continuation("fragment2")}, how,
                       echo_then_close({text("fragment1fragment2")})));
  }
  for (auto how : all_three) {
    out.push_back(
      make("5." + std::to_string(n++), "text in 2 fragments, ping between -> pong, echo",
           {text_frame("fragment1", false), ping_frame("pongme 2!"), continuation("fragment2")},
           how, echo_then_close({pong("pongme 2!"), text("fragment1fragment2")})));
  }
  for (auto how : all_three) {
    out.push_back(make("5." + std::to_string(n++),
                       "continuation (FIN) without a message, then text -> fail 1002",
                       {continuation("non-continuation payload"), text_frame("Hello, world!")}, how,
                       fail_with({1002})));
  }
  for (auto how : all_three) {
    out.push_back(make(
      "5." + std::to_string(n++), "continuation (no FIN) without a message, then text -> fail 1002",
      {continuation("non-continuation payload", false), text_frame("Hello, world!")}, how,
      fail_with({1002})));
  }
  // n == 15
  out.push_back(
    make("5.15", "text in 2 fragments, then a stray continuation pair -> echo, 1002",
         {text_frame("fragment1", false), continuation("fragment2"),
          continuation("fragment3", false), continuation("fragment4"), text_frame("fragment5")},
         pacing::frame_wise, fail_with({1002}, {text("fragment1fragment2")})));
  out.push_back(make("5.16", "stray continuations before fragmented texts -> fail 1002",
                     {continuation("fragment1", false), continuation("fragment2"),
                      text_frame("fragment3", false), continuation("fragment4")},
                     pacing::together, fail_with({1002})));
  out.push_back(make("5.17", "stray continuation (FIN) pair before a fragmented text -> 1002",
                     {continuation("fragment1"), continuation("fragment2"),
                      text_frame("fragment3", false), continuation("fragment4")},
                     pacing::together, fail_with({1002})));
  out.push_back(make("5.18", "text fragment, then a new text (not a continuation) -> 1002",
                     {text_frame("fragment1", false), text_frame("fragment2")}, pacing::together,
                     fail_with({1002})));
  std::vector<std::string> five{text_frame("fragment1", false),   continuation("fragment2", false),
                                ping_frame("pongme 1!"),          continuation("fragment3", false),
                                continuation("fragment4", false), ping_frame("pongme 2!"),
                                continuation("fragment5")};
  auto five_expect = echo_then_close(
    {pong("pongme 1!"), pong("pongme 2!"), text("fragment1fragment2fragment3fragment4fragment5")});
  out.push_back(make("5.19", "text in 5 fragments, pings after the 2nd and 4th -> pongs, echo",
                     five, pacing::frame_wise, five_expect));
  out.push_back(make("5.20", "text in 5 fragments, pings after the 2nd and 4th -> pongs, echo",
                     five, pacing::octet_wise, five_expect));

  // 1-byte and empty fragments.
  auto t20 = text_payload(20);
  out.push_back(make("5.21", "text of 20 bytes in 20 fragments of 1 byte -> echo",
                     {fragments(0x1, t20, 1)}, pacing::together, echo_then_close({text(t20)})));
  auto b1000 = binary_payload(1000);
  out.push_back(make("5.22", "binary of 1000 bytes in 1000 fragments of 1 byte -> echo",
                     {fragments(0x2, b1000, 1)}, pacing::together,
                     echo_then_close({binary(b1000)})));
  // A ping after every 512th of 4096 1-byte fragments.
  auto t4096 = text_payload(4096);
  std::string interleaved;
  std::vector<event> pongs;
  for (std::size_t i = 0; i < t4096.size(); ++i) {
    interleaved += frame(i == 0 ? 0x1 : 0x0, t4096.substr(i, 1), i + 1 == t4096.size());
    if (i % 512 == 511 && i + 1 < t4096.size()) {
      interleaved += ping_frame("ping " + std::to_string(i));
      pongs.push_back(pong("ping " + std::to_string(i)));
    }
  }
  pongs.push_back(text(t4096));
  out.push_back(make("5.23", "text of 4096 1-byte fragments, a ping every 512 -> pongs, echo",
                     {interleaved}, pacing::together, echo_then_close(pongs)));
  out.push_back(make("5.24", "empty text fragment, empty continuation, then \"abc\" -> echo",
                     {text_frame("", false), continuation("", false), continuation("abc")},
                     pacing::together, echo_then_close({text("abc")})));
  auto utf8 = std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
  out.push_back(make("5.25", "UTF-8 text in 1-byte fragments (code points split) -> echo",
                     {fragments(0x1, utf8, 1)}, pacing::together, echo_then_close({text(utf8)})));
  return out;
}

} // namespace plexus::test::conformance

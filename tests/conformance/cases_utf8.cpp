// 6.x UTF-8 in text messages: empty and fragmented texts, valid sequences (also split
// inside code points), Markus Kuhn's invalid sequences, and fail-fast: an invalid sequence
// must fail the connection with 1007 as soon as it arrives, before the rest of the message
// (Autobahn 6.4: a `timeout` checkpoint after the bad bytes must not be reached).
#include "tests/conformance/conformance.hpp"

namespace plexus::test::conformance {

namespace {

struct sequence {
  const char* description;
  std::string bytes;
  bool valid;
};

/// Markus Kuhn's UTF-8 decoder capability and stress test, as Autobahn 6.5-6.22 uses it.
std::vector<std::pair<std::string, std::vector<sequence>>> kuhn_groups() {
  using namespace std::string_literals;
  return {
    {"6.5", {{"kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"s, true}}},
    {"6.6",
     {{"first 1-byte sequence U+0000", "\x00"s, true},
      {"first 2-byte sequence U+0080", "\xc2\x80"s, true},
      {"first 3-byte sequence U+0800", "\xe0\xa0\x80"s, true},
      {"first 4-byte sequence U+10000", "\xf0\x90\x80\x80"s, true}}},
    {"6.7",
     {{"last 1-byte sequence U+007F", "\x7f"s, true},
      {"last 2-byte sequence U+07FF", "\xdf\xbf"s, true},
      {"last 3-byte sequence U+FFFF", "\xef\xbf\xbf"s, true},
      {"last 4-byte sequence U+10FFFF", "\xf4\x8f\xbf\xbf"s, true}}},
    {"6.8",
     {{"U+D7FF", "\xed\x9f\xbf"s, true},
      {"U+E000", "\xee\x80\x80"s, true},
      {"U+FFFD", "\xef\xbf\xbd"s, true},
      {"U+110000 (past Unicode)", "\xf4\x90\x80\x80"s, false}}},
    {"6.9",
     {{"5-byte sequence", "\xf8\x88\x80\x80\x80"s, false},
      {"6-byte sequence", "\xfc\x84\x80\x80\x80\x80"s, false}}},
    {"6.10",
     {{"lone continuation 0x80", "\x80"s, false},
      {"lone continuation 0xbf", "\xbf"s, false},
      {"2 continuation bytes", "\x80\xbf"s, false},
      {"3 continuation bytes", "\x80\xbf\x80"s, false},
      {"continuation after text", "ab\x80"s, false}}},
    {"6.11",
     {{"lonely 2-byte start then space", "\xc0 "s, false},
      {"lonely 3-byte start then space", "\xe0 "s, false},
      {"lonely 4-byte start then space", "\xf0 "s, false}}},
    {"6.12",
     {{"2-byte sequence missing its last byte", "\xc2"s, false},
      {"3-byte sequence missing its last byte", "\xe1\x80"s, false},
      {"4-byte sequence missing its last byte", "\xf0\x90\x80"s, false},
      {"valid text, then a cut 3-byte sequence", "Hello\xef\xbf"s, false}}},
    {"6.13",
     {{"impossible byte 0xfe", "\xfe"s, false},
      {"impossible byte 0xff", "\xff"s, false},
      {"0xfe 0xfe 0xff 0xff", "\xfe\xfe\xff\xff"s, false}}},
    {"6.14",
     {{"overlong '/' in 2 bytes", "\xc0\xaf"s, false},
      {"overlong '/' in 3 bytes", "\xe0\x80\xaf"s, false},
      {"overlong '/' in 4 bytes", "\xf0\x80\x80\xaf"s, false},
      {"largest overlong 2-byte", "\xc1\xbf"s, false},
      {"largest overlong 3-byte", "\xe0\x9f\xbf"s, false},
      {"largest overlong 4-byte", "\xf0\x8f\xbf\xbf"s, false},
      {"overlong NUL in 2 bytes", "\xc0\x80"s, false},
      {"overlong NUL in 3 bytes", "\xe0\x80\x80"s, false}}},
    {"6.15",
     {{"surrogate U+D800", "\xed\xa0\x80"s, false},
      {"surrogate U+DB7F", "\xed\xad\xbf"s, false},
      {"surrogate U+DFFF", "\xed\xbf\xbf"s, false},
      {"surrogate pair U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80"s, false}}},
    {"6.16",
     {{"noncharacter U+FFFE", "\xef\xbf\xbe"s, true},
      {"noncharacter U+FDD0", "\xef\xb7\x90"s, true},
      {"noncharacter U+1FFFE", "\xf0\x9f\xbf\xbe"s, true},
      {"noncharacter U+10FFFF", "\xf4\x8f\xbf\xbf"s, true}}},
  };
}

/// 6.4: a message in three parts with a pause after each; the second part makes it invalid.
/// `chops`: the parts are TCP pieces of one frame rather than three fragments.
case_def fail_fast(std::string id, std::string description, std::string part1, std::string part2,
                   std::string part3, bool chops) {
  auto script = [=](peer& p) {
    const auto pause = std::chrono::milliseconds(300);
    if (chops) {
      auto whole = text_frame(part1 + part2 + part3);
      auto header = whole.size() - part1.size() - part2.size() - part3.size();
      p.send(whole.substr(0, header + part1.size()));
      p.wait(pause);
      p.checkpoint("A");
      p.send(whole.substr(header + part1.size(), part2.size()));
      p.wait(pause);
      p.checkpoint("B");
      p.send(whole.substr(header + part1.size() + part2.size()));
    } else {
      p.send(text_frame(part1, false));
      p.wait(pause);
      p.checkpoint("A");
      p.send(continuation(part2, false));
      p.wait(pause);
      p.checkpoint("B");
      p.send(continuation(part3));
    }
  };
  auto expect = fail_with({1007}, {timeout("A")});
  // Noticed only once the whole message (or frame) was there: NON-STRICT, as in Autobahn.
  expect.non_strict = {{timeout("A"), timeout("B")}};
  return scripted(std::move(id), std::move(description), script, expect);
}

} // namespace

std::vector<case_def> utf8_cases() {
  std::vector<case_def> out;
  out.push_back(scripted(
    "6.1.1", "empty text message -> echo", [](peer& p) { p.send(text_frame("")); },
    echo_then_close({text("")})));
  out.push_back(scripted(
    "6.1.2", "text of 3 empty fragments -> echo",
    [](peer& p) { p.send(text_frame("", false) + continuation("", false) + continuation("")); },
    echo_then_close({text("")})));
  out.push_back(scripted(
    "6.1.3", "text: empty, \"middle\", empty fragments -> echo",
    [](peer& p) {
      p.send(text_frame("", false) + continuation("middle", false) + continuation(""));
    },
    echo_then_close({text("middle")})));
  const std::string hello
    = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";
  out.push_back(scripted(
    "6.2.1", "valid UTF-8 in one frame -> echo", [hello](peer& p) { p.send(text_frame(hello)); },
    echo_then_close({text(hello)})));
  out.push_back(scripted(
    "6.2.2", "valid UTF-8 in 2 fragments split at a code point -> echo",
    [hello](peer& p) {
      p.send(text_frame(hello.substr(0, 7), false) + continuation(hello.substr(7)));
    },
    echo_then_close({text(hello)})));
  out.push_back(scripted(
    "6.2.3", "valid UTF-8 in 1-byte fragments -> echo",
    [hello](peer& p) { p.send(fragments(0x1, hello, 1)); }, echo_then_close({text(hello)})));
  out.push_back(scripted(
    "6.2.4", "valid UTF-8 in 1-byte TCP chops -> echo",
    [hello](peer& p) { p.send_chopped(text_frame(hello), 1); }, echo_then_close({text(hello)})));
  const std::string bad = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                          "edited";
  out.push_back(scripted(
    "6.3.1", "invalid UTF-8 (a surrogate) in one frame -> fail 1007",
    [bad](peer& p) { p.send(text_frame(bad)); }, fail_with({1007})));
  out.push_back(scripted(
    "6.3.2", "invalid UTF-8 in 1-byte fragments -> fail 1007",
    [bad](peer& p) { p.send(fragments(0x1, bad, 1)); }, fail_with({1007})));

  const std::string kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  out.push_back(fail_fast("6.4.1", "fail fast: 3 fragments, the 2nd is U+110000 -> 1007 at once",
                          kosme, "\xf4\x90\x80\x80", "edited", false));
  out.push_back(fail_fast("6.4.2", "fail fast: 3 fragments, code point split, bad 2nd byte",
                          kosme + "\xf4", "\x90",
                          "\x80\x80"
                          "edited",
                          false));
  out.push_back(fail_fast("6.4.3", "fail fast: one frame in 3 TCP chops, the 2nd is invalid", kosme,
                          "\xf4\x90\x80\x80", "edited", true));
  out.push_back(fail_fast("6.4.4", "fail fast: one frame in 3 chops, code point split",
                          kosme + "\xf4", "\x90",
                          "\x80\x80"
                          "edited",
                          true));

  for (const auto& [group, sequences] : kuhn_groups()) {
    int n = 1;
    for (const auto& s : sequences) {
      auto payload = s.bytes;
      std::string verdict_text = s.valid ? " -> echo" : " -> fail 1007";
      auto expect = s.valid ? echo_then_close({text(payload)}) : fail_with({1007});
      out.push_back(scripted(
        group + "." + std::to_string(n++), s.description + verdict_text,
        [payload](peer& p) { p.send(text_frame(payload)); }, expect));
      // The same bytes as 1-byte fragments: the validator keeps state across fragments.
      out.push_back(scripted(
        group + "." + std::to_string(n++),
        std::string{s.description} + ", 1-byte fragments" + verdict_text,
        [payload](peer& p) { p.send(fragments(0x1, payload, 1)); }, expect));
    }
  }
  return out;
}

} // namespace plexus::test::conformance

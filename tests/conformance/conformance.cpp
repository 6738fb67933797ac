#include "tests/conformance/conformance.hpp"

#include <algorithm>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>

#include "tests/support/ws_test_frames.hpp"

namespace plexus::test::conformance {

namespace {

struct row {
  std::string id;
  std::string endpoint;
  std::string description;
  outcome result;
};

struct report_state {
  std::mutex mu;
  std::vector<row> rows;
  std::vector<std::string> notes;
};

report_state& report() {
  static report_state r;
  return r;
}

/// "1.10.2" < "1.2.3" numerically, part by part.
bool id_less(const std::string& a, const std::string& b) {
  std::istringstream x(a);
  std::istringstream y(b);
  std::string pa;
  std::string pb;
  for (;;) {
    bool ha = static_cast<bool>(std::getline(x, pa, '.'));
    bool hb = static_cast<bool>(std::getline(y, pb, '.'));
    if (!ha || !hb) {
      return !ha && hb;
    }
    if (pa != pb) {
      auto na = std::atoi(pa.c_str());
      auto nb = std::atoi(pb.c_str());
      return na != nb ? na < nb : pa < pb;
    }
  }
}

const char* group_title(int group) {
  switch (group) {
    case 1:
      return "1 Framing";
    case 2:
      return "2 Pings/Pongs";
    case 3:
      return "3 Reserved Bits";
    case 4:
      return "4 Opcodes";
    case 5:
      return "5 Fragmentation";
    case 6:
      return "6 UTF-8 Handling";
    case 7:
      return "7 Close Handling and Opening Handshake";
    case 9:
      return "9 Limits and Memory";
    case 12:
      return "12 WebSocket Compression (round trips)";
    case 13:
      return "13 WebSocket Compression (negotiation, bombs)";
    default:
      return "?";
  }
}

/// Compares what arrived with what was expected; on /ws a data message matches any reply.
bool same_events(const std::vector<event>& got, const std::vector<event>& want, endpoint ep) {
  if (got.size() != want.size()) {
    return false;
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (ep == endpoint::session && want[i].what == event::kind::message) {
      if (got[i].what != event::kind::message) {
        return false;
      }
      continue;
    }
    if (!(got[i] == want[i])) {
      return false;
    }
  }
  return true;
}

std::string codes_text(const std::vector<uint16_t>& codes) {
  std::string s;
  for (auto c : codes) {
    s += (s.empty() ? "" : ",") + std::to_string(c);
  }
  return s;
}

} // namespace

const char* to_string(verdict v) {
  switch (v) {
    case verdict::ok:
      return "OK";
    case verdict::non_strict:
      return "NON-STRICT";
    default:
      return "FAILED";
  }
}

expectation echo_then_close(std::vector<event> events) {
  expectation e;
  e.ok = std::move(events);
  return e;
}

expectation fail_with(std::vector<uint16_t> codes, std::vector<event> before) {
  expectation e;
  e.ok = std::move(before);
  e.non_strict = {{}};
  e.closed_by_me = false;
  e.close_codes = std::move(codes);
  e.require_clean = false;
  return e;
}

outcome judge(const peer& p, const expectation& e, endpoint ep) {
  outcome o;
  std::string close_text = p.remote_close_code ? "close " + std::to_string(*p.remote_close_code)
                                               : std::string{"no close frame"};
  if (!p.protocol_error.empty()) {
    o.detail = "server broke the protocol: " + p.protocol_error;
    return o;
  }
  verdict behavior = verdict::failed;
  if (same_events(p.received, e.ok, ep)) {
    behavior = verdict::ok;
  } else {
    for (const auto& alt : e.non_strict) {
      if (same_events(p.received, alt, ep)) {
        behavior = verdict::non_strict;
        break;
      }
    }
  }
  if (behavior == verdict::failed) {
    o.detail
      = "events " + describe(p.received) + ", expected " + describe(e.ok) + "; " + close_text;
    return o;
  }
  bool clean = p.close_sent && p.close_received && p.tcp_closed;
  if (p.timed_out && !p.tcp_closed) {
    o.detail = "the server did not close the connection (" + close_text + ")";
    return o;
  }
  if (e.closed_by_me != p.closed_by_me) {
    o.detail = std::string{"the connection was closed by the wrong endpoint ("}
               + (p.closed_by_me ? "client" : "server") + " first, " + close_text + ")";
    return o;
  }
  if (e.require_clean && !clean) {
    o.detail = "unclean close (" + close_text + ")";
    return o;
  }
  o.v = behavior;
  o.detail = close_text;
  if (p.remote_close_code
      && std::find(e.close_codes.begin(), e.close_codes.end(), *p.remote_close_code)
           == e.close_codes.end()) {
    // Autobahn's WRONG CODE: closed as it should, with another code.
    o.v = e.wrong_code_fails ? verdict::failed : verdict::non_strict;
    o.detail += " (expected " + codes_text(e.close_codes) + ")";
  }
  if (behavior == verdict::non_strict) {
    o.detail += "; events " + describe(p.received) + " (strict: " + describe(e.ok) + ")";
  }
  return o;
}

outcome run(const case_def& c, uint16_t port, endpoint ep) {
  if (c.custom) {
    return c.custom(port, ep);
  }
  peer::options opts;
  opts.ep = ep;
  opts.extensions = c.extensions;
  auto p = peer::connect(port, opts);
  if (!p->open()) {
    return {verdict::failed, "upgrade refused with " + std::to_string(p->answer().status)};
  }
  if (c.script) {
    c.script(*p);
  }
  p->finish(c.expect.ok.size(), c.expect.closed_by_me, c.timeout);
  return judge(*p, c.expect, ep);
}

void record(const case_def& c, endpoint ep, const outcome& o) {
  auto& r = report();
  std::lock_guard<std::mutex> guard{r.mu};
  r.rows.push_back(row{c.id, to_string(ep), c.description, o});
}

void record_note(const std::string& line) {
  auto& r = report();
  std::lock_guard<std::mutex> guard{r.mu};
  r.notes.push_back(line);
}

void print_report(std::ostream& out) {
  auto& r = report();
  std::lock_guard<std::mutex> guard{r.mu};
  auto rows = r.rows;
  std::stable_sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    return a.id != b.id ? id_less(a.id, b.id) : a.endpoint > b.endpoint;
  });
  std::map<std::string, std::map<verdict, int>> per_endpoint;
  std::map<int, std::map<verdict, int>> per_group;
  out << "\nplexus WebSocket conformance (Autobahn|Testsuite case groups and verdicts)\n";
  int group = -1;
  for (const auto& x : rows) {
    int g = std::atoi(x.id.c_str());
    if (g != group) {
      group = g;
      out << "\n" << group_title(g) << "\n";
    }
    per_endpoint[x.endpoint][x.result.v]++;
    per_group[g][x.result.v]++;
    std::string desc
      = x.description.size() > 58 ? x.description.substr(0, 55) + "..." : x.description;
    out << "  " << std::left << std::setw(8) << x.id << std::setw(9) << x.endpoint << std::setw(59)
        << desc << std::setw(11) << to_string(x.result.v) << x.result.detail << "\n";
  }
  out << "\nSummary\n";
  auto line = [&](const std::string& title, std::map<verdict, int> counts) {
    out << "  " << std::left << std::setw(48) << title << std::right << std::setw(5)
        << counts[verdict::ok] << " OK " << std::setw(4) << counts[verdict::non_strict]
        << " NON-STRICT " << std::setw(4) << counts[verdict::failed] << " FAILED\n";
  };
  for (const auto& [g, counts] : per_group) {
    line(group_title(g), counts);
  }
  std::map<verdict, int> all;
  for (const auto& [ep, counts] : per_endpoint) {
    line("on " + ep, counts);
    for (const auto& [v, n] : counts) {
      all[v] += n;
    }
  }
  line("all " + std::to_string(rows.size()) + " runs", all);
  for (const auto& n : r.notes) {
    out << n << "\n";
  }
}

// -- frame builders ------------------------------------------------------------------------

std::string frame(uint8_t opcode, std::string_view payload, bool fin, uint8_t rsv) {
  auto first = static_cast<uint8_t>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f));
  return client_frame_raw(first, payload);
}

std::string text_frame(std::string_view payload, bool fin) {
  return frame(0x1, payload, fin);
}

std::string binary_frame(std::string_view payload, bool fin) {
  return frame(0x2, payload, fin);
}

std::string continuation(std::string_view payload, bool fin) {
  return frame(0x0, payload, fin);
}

std::string ping_frame(std::string_view payload) {
  return frame(0x9, payload);
}

std::string pong_frame(std::string_view payload) {
  return frame(0xA, payload);
}

std::string close_frame(uint16_t code, std::string_view reason) {
  return client_close(code, reason);
}

std::string fragments(uint8_t op, std::string_view payload, std::size_t size) {
  std::string out;
  std::size_t pos = 0;
  do {
    auto n = std::min(size, payload.size() - pos);
    bool last = pos + n == payload.size();
    out += frame(pos == 0 ? op : 0x0, payload.substr(pos, n), last);
    pos += n;
  } while (pos < payload.size());
  return out;
}

std::string text_payload(std::size_t n) {
  static const std::string pattern = "Hello, plexus! The quick brown fox jumps over 13 lazy dogs. ";
  std::string s;
  s.reserve(n);
  while (s.size() < n) {
    s += pattern.substr(0, std::min(pattern.size(), n - s.size()));
  }
  return s;
}

std::string binary_payload(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 7 + 3) & 0xff);
  }
  return s;
}

case_def scripted(std::string id, std::string description, std::function<void(peer&)> script,
                  expectation expect, std::chrono::milliseconds timeout) {
  case_def c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.script = std::move(script);
  c.expect = std::move(expect);
  c.timeout = timeout;
  return c;
}

const char* pacing_text(pacing how) {
  switch (how) {
    case pacing::frame_wise:
      return ", frame-wise";
    case pacing::octet_wise:
      return ", in 1-byte chops";
    default:
      return "";
  }
}

void send_frames(peer& p, const std::vector<std::string>& frames, pacing how,
                 std::chrono::milliseconds pause) {
  std::string all;
  for (const auto& f : frames) {
    if (how == pacing::frame_wise) {
      p.send(f);
      p.wait(pause);
    } else {
      all += f;
    }
  }
  if (how == pacing::together) {
    p.send(all);
  } else if (how == pacing::octet_wise) {
    p.send_chopped(all, 1);
  }
}

} // namespace plexus::test::conformance

// Draining a node: its clients move to other nodes and, on a channel with history, miss
// nothing.
#include <atomic>
#include <numeric>
#include <thread>

#include <gtest/gtest.h>

#include "tests/cluster/cluster_harness.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;

/// A channel of the `room` namespace whose owner among all three nodes is `owner`.
std::string channel_owned_by(test_cluster& c, const std::string& owner, const std::string& base) {
  for (int k = 0;; ++k) {
    auto ch = "room:" + base + std::to_string(k);
    if (c.owner_of(ch, {0, 1, 2}) == owner) {
      return ch;
    }
  }
}

/// A subscriber that follows `reconnect` frames to wherever they point and resumes with
/// since/epoch, recording every offset it was given.
struct roaming_subscriber {
  cluster_client c;
  std::string channel;
  std::vector<uint64_t> offsets;
  std::vector<uint64_t> published; // the publisher's counter `i` of each message
  std::string epoch;
  int moves = 0;
  std::vector<bool> recovered;

  bool start(uint16_t port) {
    c = connect_client(port);
    if (!c.ws) {
      return false;
    }
    auto r = subscribe(c, channel);
    if (!r) {
      return false;
    }
    epoch = json_string(*r, "epoch");
    return true;
  }

  /// Reads until `want` offsets arrived, following one reconnect on the way.
  void run(std::size_t want, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (offsets.size() < want && std::chrono::steady_clock::now() < deadline) {
      auto m = c.ws->read_message(200ms);
      if (!m) {
        continue;
      }
      auto type = json_string(*m, "type");
      if (type == "message" && json_string(*m, "channel") == channel) {
        offsets.push_back(static_cast<uint64_t>(json_int(*m, "offset").value_or(0)));
        published.push_back(static_cast<uint64_t>(json_int(json_raw(*m, "data"), "i").value_or(0)));
      } else if (type == "subscribed") {
        epoch = json_string(*m, "epoch");
      } else if (type == "reconnect") {
        auto url = json_string(*m, "url");
        auto after = json_int(*m, "after_ms").value_or(0);
        EXPECT_EQ(c.ws->wait_closed(5s), 4010);
        std::this_thread::sleep_for(std::chrono::milliseconds(after)); // as asked
        auto port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
        c = connect_client(port);
        if (!c.ws) {
          return;
        }
        ++moves;
        auto since = offsets.empty() ? 0 : offsets.back();
        auto r = subscribe(c, channel, since, epoch);
        if (!r) {
          return;
        }
        recovered.push_back(json_bool(*r, "recovered").value_or(false));
        epoch = json_string(*r, "epoch");
      }
    }
  }
};

std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

/// Where `got` departs from 1..n (gtest prints only the first 32 elements of a vector).
std::string departures(const std::vector<uint64_t>& got) {
  std::string out;
  int shown = 0;
  for (std::size_t i = 0; i < got.size() && shown < 10; ++i) {
    if (got[i] != i + 1) {
      out += " [" + std::to_string(i) + "]=" + std::to_string(got[i]);
      ++shown;
    }
  }
  return out.empty() ? " none (size " + std::to_string(got.size()) + ")" : out;
}

/// Publishes `n` messages one after the other (each waits for its ack, retrying a refused
/// one), pacing them `gap` apart; records the acked offsets.
void publish_paced(uint16_t port, const std::string& ch, int n, std::chrono::microseconds gap,
                   std::vector<uint64_t>& acked, std::vector<std::string>& refusals) {
  auto p = connect_client(port);
  for (int i = 1; i <= n; ++i) {
    std::optional<uint64_t> off;
    for (int attempt = 0; attempt < 20 && !off; ++attempt) {
      auto r = publish_reply(p, ch, i * 100 + attempt, "{\"i\":" + std::to_string(i) + "}", 10s);
      if (r && json_string(*r, "type") == "ack" && json_int(*r, "offset")) {
        off = static_cast<uint64_t>(*json_int(*r, "offset"));
      } else {
        refusals.push_back("publish " + std::to_string(i) + ": " + r.value_or("(timeout)"));
      }
    }
    if (!off) {
      return;
    }
    acked.push_back(*off);
    std::this_thread::sleep_for(gap);
  }
}

TEST(cluster_drain, drained_owner_hands_off_and_its_clients_miss_nothing) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  auto ch = channel_owned_by(c, "n1", "drain");
  std::vector<roaming_subscriber> subs(4);
  for (auto& s : subs) {
    s.channel = ch;
    ASSERT_TRUE(s.start(c[0].http_port)) << c.logs();
  }
  // A subscriber that stays on n2 sees the same stream.
  roaming_subscriber steady;
  steady.channel = ch;
  ASSERT_TRUE(steady.start(c[1].http_port));
  const int n = 400;
  std::vector<uint64_t> acked;
  std::vector<std::string> refusals;
  std::thread publisher([&] { publish_paced(c[1].http_port, ch, n, 2ms, acked, refusals); });
  std::this_thread::sleep_for(300ms);
  auto r = http_request(c[0].http_port, "POST", "/v1/drain", {},
                        {{"Authorization", std::string("apikey ") + test_cluster::api_key}});
  EXPECT_EQ(r.status, 202) << r.body;
  std::vector<std::thread> readers;
  for (auto& s : subs) {
    readers.emplace_back([&s] { s.run(n, 30s); });
  }
  steady.run(n, 30s);
  for (auto& t : readers) {
    t.join();
  }
  publisher.join();
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(n)) << c.logs();
  EXPECT_EQ(acked, one_to(n)) << "departures:" << departures(acked)
                              << "\nrefusals: " << ::testing::PrintToString(refusals) << c.logs();
  EXPECT_EQ(steady.offsets, one_to(n)) << departures(steady.offsets) << c.logs();
  // Each publish stored once: a forward retried across the hand-off is recognised.
  EXPECT_EQ(steady.published, one_to(n)) << departures(steady.published) << c.logs();
  for (auto& s : subs) {
    EXPECT_EQ(s.moves, 1);
    EXPECT_EQ(s.recovered, std::vector<bool>{true}) << c.logs();
    EXPECT_EQ(s.offsets, one_to(n)) << c.logs();
  }
  // The drained node leaves once its clients are gone, well before the grace period.
  EXPECT_EQ(c[0].proc->wait_exit(10s), 0) << c.logs();
  EXPECT_TRUE(c.wait_formed({1, 2}, 5s)) << c.logs();
}

TEST(cluster_drain, draining_node_refuses_upgrades_and_readyz_with_an_alternate) {
  node_options o;
  o.drain_grace_s = 3;
  test_cluster c{2, o};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1})) << c.logs();
  auto keep = connect_client(c[0].http_port); // keeps n1 draining until the grace ends
  ASSERT_TRUE(keep.ws);
  keep.ws->auto_pong = true;
  c[0].proc->signal(SIGTERM);
  ASSERT_TRUE(
    wait_until(3s, [&] { return http_request(c[0].http_port, "GET", "/readyz").status == 503; }));
  auto refused = ws_client::connect(c[0].http_port);
  EXPECT_FALSE(refused->open());
  EXPECT_EQ(refused->answer().status, 503);
  EXPECT_EQ(refused->answer().header("x-plexus-alternate"), c[1].ws_url());
  // The reconnect frame points at n2.
  auto m = keep.ws->read_type("reconnect", 5s);
  ASSERT_TRUE(m) << c.logs();
  EXPECT_EQ(json_string(*m, "url"), c[1].ws_url()) << c.logs();
  EXPECT_TRUE(json_int(*m, "after_ms").has_value());
  EXPECT_EQ(c[0].proc->wait_exit(10s), 0) << c.logs();
}

} // namespace
} // namespace plexus::test

// The conformance suite's test binary: one parameterized test per case and endpoint, all
// against one in-process node; the Autobahn-style report is printed when the binary ends.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "tests/conformance/conformance.hpp"
#include "tests/support/test_node.hpp"

namespace plexus::test::conformance {

namespace {

/// The limit the cases are written against (the default of [websocket]).
constexpr std::size_t max_message_bytes = 65536;

test_node* the_node = nullptr;

class environment : public ::testing::Environment {
public:
  void SetUp() override {
    node_ = std::make_unique<test_node>([](engine::config& cfg) {
      cfg.websocket.max_message_bytes = max_message_bytes;
      cfg.websocket.compression = true;
      // Hundreds of cases connect from 127.0.0.1 within seconds.
      cfg.connection_limits.connections_per_ip_per_second = 1000000;
    });
    the_node = node_.get();
  }
  void TearDown() override {
    the_node = nullptr;
    node_.reset();
    print_report(std::cout);
    std::ofstream file(std::string(PLEXUS_BINARY_DIR) + "/conformance-report.txt");
    print_report(file);
  }

private:
  std::unique_ptr<test_node> node_;
};

struct case_ref {
  std::shared_ptr<const case_def> c;
  endpoint ep = endpoint::echo;
};

void PrintTo(const case_ref& r, std::ostream* os) {
  *os << r.c->id << " " << to_string(r.ep);
}

std::vector<case_ref> all_runs() {
  std::vector<case_ref> out;
  for (auto& c : all_cases()) {
    auto shared = std::make_shared<const case_def>(std::move(c));
    out.push_back({shared, endpoint::echo});
    if (!shared->echo_only) {
      out.push_back({shared, endpoint::session});
    }
  }
  return out;
}

std::string run_name(const ::testing::TestParamInfo<case_ref>& info) {
  std::string name = "c" + info.param.c->id;
  for (auto& ch : name) {
    if (ch == '.') {
      ch = '_';
    }
  }
  return name + (info.param.ep == endpoint::echo ? "_echo" : "_ws");
}

class autobahn : public ::testing::TestWithParam<case_ref> {};

TEST_P(autobahn, case) {
  const auto& [c, ep] = GetParam();
  ASSERT_NE(the_node, nullptr);
  auto o = run(*c, the_node->port(), ep);
  record(*c, ep, o);
  if (o.v == verdict::failed) {
    ADD_FAILURE() << c->id << " " << to_string(ep) << " (" << c->description << "): FAILED, "
                  << o.detail;
  }
}

INSTANTIATE_TEST_SUITE_P(cases, autobahn, ::testing::ValuesIn(all_runs()), run_name);

} // namespace

uint16_t node_port() {
  return the_node ? the_node->port() : 0;
}

std::size_t node_max_message_bytes() {
  return max_message_bytes;
}

std::vector<case_def> all_cases() {
  std::vector<case_def> out;
  for (auto group : {framing_cases, reserved_cases, fragmentation_cases, utf8_cases, close_cases,
                     limit_cases, deflate_cases}) {
    auto cases = group();
    std::move(cases.begin(), cases.end(), std::back_inserter(out));
  }
  return out;
}

} // namespace plexus::test::conformance

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  spdlog::set_level(std::getenv("PLEXUS_TEST_LOG") ? spdlog::level::debug : spdlog::level::err);
  ::testing::AddGlobalTestEnvironment(new plexus::test::conformance::environment());
  return RUN_ALL_TESTS();
}

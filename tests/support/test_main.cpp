#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Tests log only warnings and errors unless PLEXUS_TEST_LOG asks for more.
  spdlog::set_level(std::getenv("PLEXUS_TEST_LOG") ? spdlog::level::debug : spdlog::level::warn);
  return RUN_ALL_TESTS();
}

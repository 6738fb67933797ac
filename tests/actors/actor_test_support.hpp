#pragma once

// Deterministic actor tests: a CAF system on the testing scheduler (nothing runs until the
// test says so, and time only moves when the test advances it), a vector outbox, recorder
// actors that stand in for sessions and the registry, and small JSON readers for frames.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include "actors/context.hpp"
#include "actors/outbox.hpp"
#include "actors/presence_types.hpp"

namespace plexus::actors::test {

/// An outbox that keeps every frame it is handed, as JSON text (or msgpack bytes).
class vector_outbox : public outbox {
public:
  explicit vector_outbox(wire_format f = wire_format::json) : format_(f) {
  }

  bool push(const frame_ptr& f, slow_consumer_policy policy) override;
  void close(uint16_t code, const std::string& reason) override;
  wire_format format() const override {
    return format_;
  }
  bool deflate() const override {
    return false;
  }

  /// Every frame so far, in order (JSON text for json outboxes).
  std::vector<std::string> frames() const;
  /// The frames so far, clearing them.
  std::vector<std::string> take();
  /// The frames so far whose `type` is `type`.
  std::vector<std::string> of_type(std::string_view type) const;
  /// The close code, 0 while open.
  uint16_t closed_with() const;

private:
  wire_format format_;
  mutable std::mutex mu_;
  std::vector<std::string> frames_;
  uint16_t close_code_ = 0;
};

using vector_outbox_ptr = std::shared_ptr<vector_outbox>;

/// What a recorder actor received.
using message_log = std::shared_ptr<std::vector<caf::message>>;

/// An actor that records every message it gets (a session's view of room replies, a
/// registry's view of tracker traffic, an embedder's presence listener).
caf::actor spawn_recorder(caf::actor_system& sys, message_log log);

/// The system and settings each actor test starts from.
class actor_test : public ::testing::Test {
protected:
  actor_test();
  ~actor_test() override;

  /// Runs every job that is ready (no timers fire).
  void run() {
    sched->run();
  }
  /// Moves simulated time forward, firing due timers and running what they start.
  void advance(std::chrono::milliseconds d) {
    sched->advance_time(d);
    run();
  }
  /// Sends `xs` to `dest` as a request from a short-lived actor; the answer (a `Reply` or an
  /// error) lands in the returned slot once the scheduler ran.
  template <class Reply, class... Ts>
  std::shared_ptr<std::variant<std::monostate, Reply, caf::error>> ask(const caf::actor& dest,
                                                                       Ts... xs) {
    auto slot = std::make_shared<std::variant<std::monostate, Reply, caf::error>>();
    sys->spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, xs...)
        .then([slot](Reply& r) { *slot = std::move(r); },
              [slot](caf::error& e) { *slot = std::move(e); });
    });
    return slot;
  }
  /// The namespace settings of `name`, for tweaks before the first room of it spawns.
  namespace_settings& ns(const std::string& name);
  /// Remembers `a` so the fixture stops it at the end (the system waits for every actor).
  caf::actor keep(caf::actor a) {
    kept_.push_back(a);
    return a;
  }
  /// A recorder actor the fixture stops at the end.
  caf::actor recorder(message_log log) {
    return keep(spawn_recorder(*sys, std::move(log)));
  }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<domain_settings> settings;
  context ctx;

private:
  std::vector<caf::actor> kept_;
};

/// A string field of a JSON object ("" when absent).
std::string json_str(std::string_view json, std::string_view key);
/// An integer field.
std::optional<int64_t> json_int(std::string_view json, std::string_view key);
/// A boolean field.
std::optional<bool> json_bool(std::string_view json, std::string_view key);
/// `type` of a frame.
inline std::string type_of(std::string_view json) {
  return json_str(json, "type");
}
/// The members of an array field of member objects (`members`, `joins`, ...).
member_list json_members(std::string_view json, std::string_view key);

/// A member as sessions build them.
member make_member(const std::string& user, const std::string& session,
                   const std::string& status = "online");

} // namespace plexus::actors::test

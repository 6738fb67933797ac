#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "actors/outbox.hpp"

namespace plexus::actors {

/// How a room reaches its subscribers: their outboxes grouped by sink (one group per I/O
/// thread), so a broadcast is one `push_all` per sink rather than one push per subscriber.
/// Outboxes without a sink (embedded actors, tests) are pushed one by one.
///
/// The groups are rebuilt lazily, at the first broadcast after the subscribers changed; a
/// group's list is reused in place when no sink still holds it, else replaced.
class fanout_plan {
public:
  /// The subscribers changed: rebuild before the next push.
  void invalidate() {
    stale_ = true;
  }

  /// Pushes `f` to the outbox `s.out` of every `s` in `subs`.
  template <class Subscribers>
  void push(const Subscribers& subs, const frame_ptr& f, slow_consumer_policy policy) {
    if (stale_) {
      rebuild(subs);
    }
    for (auto& g : groups_) {
      g.sink->push_all(f, policy, g.list);
    }
    for (auto* out : singles_) {
      out->push(f, policy);
    }
  }

private:
  struct group {
    outbox_sink* sink;
    std::shared_ptr<std::vector<outbox_ptr>> list;
  };

  template <class Subscribers>
  void rebuild(const Subscribers& subs) {
    for (auto& g : groups_) {
      writable(g).clear();
    }
    singles_.clear();
    for (const auto& s : subs) {
      auto* sink = s.out->sink();
      if (sink == nullptr) {
        singles_.push_back(s.out.get());
      } else {
        writable(group_of(sink)).push_back(s.out);
      }
    }
    groups_.erase(std::remove_if(groups_.begin(), groups_.end(),
                                 [](const group& g) { return g.list->empty(); }),
                  groups_.end());
    stale_ = false;
  }

  group& group_of(outbox_sink* sink) {
    for (auto& g : groups_) {
      if (g.sink == sink) {
        return g;
      }
    }
    groups_.push_back(group{sink, std::make_shared<std::vector<outbox_ptr>>()});
    return groups_.back();
  }

  /// The group's list, safe to change: the same vector when only we hold it (its capacity
  /// is kept), a fresh one while a sink may still be reading the old.
  static std::vector<outbox_ptr>& writable(group& g) {
    if (g.list.use_count() == 1) {
      // Pairs with the release of the sink's last copy: its reads happen before our writes.
      std::atomic_thread_fence(std::memory_order_acquire);
    } else {
      g.list = std::make_shared<std::vector<outbox_ptr>>();
    }
    return *g.list;
  }

  std::vector<group> groups_;
  std::vector<outbox*> singles_;
  bool stale_ = true;
};

} // namespace plexus::actors

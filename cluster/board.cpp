#include "cluster/board.hpp"

#include <algorithm>

namespace plexus::cluster {

namespace {

bool accepting(const member_info& m, bool or_suspect = false) {
  bool alive = m.state == member_state::up || (or_suspect && m.state == member_state::suspect);
  return alive && !m.draining && !m.full && !m.ws_url.empty();
}

} // namespace

void board::publish(std::string self, std::vector<member_info> table) {
  std::lock_guard<std::mutex> guard{mu_};
  self_ = std::move(self);
  table_ = std::move(table);
  // Forget placements their node's count includes by now, and nodes that left the table.
  for (auto i = placed_.begin(); i != placed_.end();) {
    auto m = std::find_if(table_.begin(), table_.end(),
                          [&](const member_info& r) { return r.name == i->first; });
    if (m == table_.end()) {
      i = placed_.erase(i);
      continue;
    }
    auto& by_heartbeat = i->second;
    while (!by_heartbeat.empty() && by_heartbeat.begin()->first + 1 < m->heartbeat) {
      by_heartbeat.erase(by_heartbeat.begin());
    }
    i = by_heartbeat.empty() ? placed_.erase(i) : std::next(i);
  }
}

std::string board::self() const {
  std::lock_guard<std::mutex> guard{mu_};
  return self_;
}

std::vector<member_info> board::members() const {
  std::lock_guard<std::mutex> guard{mu_};
  return table_;
}

uint64_t board::placements(const member_info& m) const {
  auto i = placed_.find(m.name);
  if (i == placed_.end()) {
    return 0;
  }
  uint64_t n = 0;
  for (const auto& [heartbeat, count] : i->second) {
    if (heartbeat + 1 >= m.heartbeat) {
      n += count;
    }
  }
  return n;
}

void board::count_placement(const member_info& m) {
  ++placed_[m.name][m.heartbeat];
}

const member_info* board::best(bool exclude_self, bool or_suspect) const {
  auto best_of = [&](bool suspect_too) -> const member_info* {
    const member_info* best = nullptr;
    uint64_t best_load = 0;
    for (const auto& m : table_) {
      if (!accepting(m, suspect_too) || (exclude_self && m.name == self_)) {
        continue;
      }
      auto load = m.connections + placements(m);
      // Ties go to the lower name, so concurrent pickers agree.
      if (best == nullptr || load < best_load || (load == best_load && m.name < best->name)) {
        best = &m;
        best_load = load;
      }
    }
    return best;
  };
  const auto* b = best_of(false);
  if (b == nullptr && or_suspect) {
    b = best_of(true);
  }
  return b;
}

std::optional<std::string> board::pick(bool exclude_self, bool or_suspect) const {
  std::lock_guard<std::mutex> guard{mu_};
  const auto* b = best(exclude_self, or_suspect);
  if (b == nullptr) {
    return std::nullopt;
  }
  return b->ws_url;
}

std::optional<std::string> board::place(bool exclude_self) {
  std::lock_guard<std::mutex> guard{mu_};
  const auto* b = best(exclude_self, false);
  if (b == nullptr) {
    return std::nullopt;
  }
  count_placement(*b);
  return b->ws_url;
}

std::optional<std::string> board::url_of_accepting(const std::string& node) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (const auto& m : table_) {
    if (m.name == node && accepting(m)) {
      return m.ws_url;
    }
  }
  return std::nullopt;
}

std::optional<std::string> board::place_on(const std::string& node) {
  std::lock_guard<std::mutex> guard{mu_};
  for (const auto& m : table_) {
    if (m.name == node && accepting(m)) {
      count_placement(m);
      return m.ws_url;
    }
  }
  return std::nullopt;
}

std::vector<board::peer_capacity> board::peers_by_capacity(bool or_suspect) const {
  std::lock_guard<std::mutex> guard{mu_};
  uint64_t largest = 0;
  for (const auto& m : table_) {
    largest = std::max(largest, m.max_connections);
  }
  auto collect = [&](bool suspect_too) {
    std::vector<peer_capacity> out;
    for (const auto& m : table_) {
      if (m.name == self_ || !accepting(m, suspect_too)) {
        continue;
      }
      if (largest == 0) {
        out.push_back({m.name, m.ws_url, 1}); // no capacities known: an even spread
        continue;
      }
      auto cap = m.max_connections > 0 ? m.max_connections : largest;
      auto load = m.connections + placements(m);
      out.push_back({m.name, m.ws_url, cap > load ? cap - load : 0});
    }
    return out;
  };
  auto out = collect(false);
  if (out.empty() && or_suspect) {
    out = collect(true);
  }
  return out;
}

weighted_spread::weighted_spread(const std::vector<board::peer_capacity>& peers) {
  for (const auto& p : peers) {
    if (p.spare > 0) {
      peers_.push_back({p.url, static_cast<int64_t>(p.spare), 0});
      total_ += static_cast<int64_t>(p.spare);
    }
  }
}

std::string weighted_spread::next() {
  if (peers_.empty()) {
    return {};
  }
  slot* chosen = nullptr;
  for (auto& s : peers_) {
    s.current += s.weight;
    if (chosen == nullptr || s.current > chosen->current) {
      chosen = &s;
    }
  }
  chosen->current -= total_;
  return chosen->url;
}

} // namespace plexus::cluster

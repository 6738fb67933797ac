#include "cluster/board.hpp"

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
}

std::string board::self() const {
  std::lock_guard<std::mutex> guard{mu_};
  return self_;
}

std::vector<member_info> board::members() const {
  std::lock_guard<std::mutex> guard{mu_};
  return table_;
}

std::optional<std::string> board::pick(bool exclude_self, bool or_suspect) const {
  std::lock_guard<std::mutex> guard{mu_};
  auto best_of = [&](bool suspect_too) -> const member_info* {
    const member_info* best = nullptr;
    for (const auto& m : table_) {
      if (!accepting(m, suspect_too) || (exclude_self && m.name == self_)) {
        continue;
      }
      // Ties go to the lower name, so concurrent pickers agree.
      if (best == nullptr || m.connections < best->connections
          || (m.connections == best->connections && m.name < best->name)) {
        best = &m;
      }
    }
    return best;
  };
  const auto* best = best_of(false);
  if (best == nullptr && or_suspect) {
    best = best_of(true);
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return best->ws_url;
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

} // namespace plexus::cluster

#include "cluster/board.hpp"

namespace plexus::cluster {

namespace {

bool accepting(const member_info& m) {
  return m.state == member_state::up && !m.draining && !m.full && !m.ws_url.empty();
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

std::optional<std::string> board::pick(bool exclude_self) const {
  std::lock_guard<std::mutex> guard{mu_};
  const member_info* best = nullptr;
  for (const auto& m : table_) {
    if (!accepting(m) || (exclude_self && m.name == self_)) {
      continue;
    }
    // Ties go to the lower name, so concurrent pickers agree.
    if (best == nullptr || m.connections < best->connections
        || (m.connections == best->connections && m.name < best->name)) {
      best = &m;
    }
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

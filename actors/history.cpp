#include "actors/history.hpp"

namespace plexus::actors {

void history::append(history_entry e) {
  if (capacity_ == 0) {
    return;
  }
  if (entries_.size() == capacity_) {
    entries_.pop_front();
  }
  entries_.push_back(std::move(e));
}

void history::expire(time_point now) {
  while (!entries_.empty() && entries_.front().at + ttl_ <= now) {
    entries_.pop_front();
  }
}

bool history::covers(uint64_t since, uint64_t last_offset) const {
  if (since == last_offset) {
    return true; // nothing missed
  }
  if (since > last_offset || entries_.empty()) {
    return false;
  }
  return entries_.front().offset <= since + 1 && entries_.back().offset == last_offset;
}

history::time_point history::newest_expiry() const {
  return entries_.empty() ? time_point{} : entries_.back().at + ttl_;
}

} // namespace plexus::actors

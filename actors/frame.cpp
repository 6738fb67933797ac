#include "actors/frame.hpp"

#include "actors/deflate.hpp"

namespace plexus::actors {

namespace {

void deflate_one(const std::string& plain, std::size_t min_bytes, std::string& deflated) {
  deflated.clear();
  if (plain.empty() || plain.size() < min_bytes) {
    return;
  }
  std::string z = deflate_message(plain);
  // Incompressible payloads (already compressed media, short random ids) grow under
  // deflate; sending them plain is both smaller and cheaper for the client.
  if (!z.empty() && z.size() < plain.size()) {
    deflated = std::move(z);
  }
}

} // namespace

void deflate_variants(frame& f, const encodings& e) {
  if (!e.deflate) {
    return;
  }
  if (e.json) {
    deflate_one(f.json, e.deflate_min_bytes, f.json_deflated);
  }
  if (e.msgpack) {
    deflate_one(f.msgpack, e.deflate_min_bytes, f.msgpack_deflated);
  }
}

} // namespace plexus::actors

#include "net/deflate.hpp"

#include <algorithm>
#include <limits>

#include <zlib.h>

namespace plexus::net::ws {

struct inflater::impl {
  z_stream zs{};
  bool initialized = false;

  ~impl() {
    if (initialized) {
      inflateEnd(&zs);
    }
  }
};

namespace {

constexpr uint8_t deflate_tail[4] = {0x00, 0x00, 0xff, 0xff};

// Output grows from this (or a multiple of the input) and doubles per round, so a big
// message takes few rounds and a small one does not reserve much.
constexpr std::size_t first_chunk = 4096;

enum class step { more, done, too_big, error };

// Inflates all of `zs`'s pending input into `out`, never letting `out` pass `limit + 1`
// bytes: reaching `limit + 1` proves the message is too big without producing the rest.
step drain(z_stream& zs, std::string& out, std::size_t limit, std::size_t& chunk) {
  for (;;) {
    std::size_t produced = out.size();
    if (produced > limit) {
      return step::too_big;
    }
    std::size_t room = std::min(chunk, limit + 1 - produced);
    out.resize(produced + room);
    zs.next_out = reinterpret_cast<Bytef*>(&out[produced]);
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_SYNC_FLUSH);
    produced += room - zs.avail_out;
    out.resize(produced);
    if (chunk < (std::size_t{1} << 20)) {
      chunk *= 2;
    }
    if (rc == Z_STREAM_END) {
      // BFINAL=1 ends the deflate stream (RFC 7692 7.2.3.3 allows it); what follows, such
      // as our appended tail, is not part of it.
      return produced > limit ? step::too_big : step::done;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress possible: either all input is used (fine) or output is full (loop).
      if (zs.avail_out != 0) {
        return step::more;
      }
      continue;
    }
    if (rc != Z_OK) {
      return step::error;
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      return produced > limit ? step::too_big : step::more;
    }
  }
}

} // namespace

inflater::inflater(int window_bits)
  // A sender that negotiated 8 usually deflates with 9 (zlib cannot do 8 for raw deflate);
  // a larger inflate window than the sender's is always safe.
  : window_bits_(std::clamp(window_bits, 9, 15)) {
}

inflater::~inflater() = default;

inflate_status inflater::inflate_message(std::string_view in, std::size_t limit, std::string& out,
                                         bool reset_after) {
  out.clear();
  if (in.size() > std::numeric_limits<uInt>::max()) {
    return inflate_status::too_big;
  }
  if (!impl_) {
    impl_ = std::make_unique<impl>();
  }
  z_stream& zs = impl_->zs;
  if (!impl_->initialized) {
    if (inflateInit2(&zs, -window_bits_) != Z_OK) {
      return inflate_status::error;
    }
    impl_->initialized = true;
  }
  std::size_t chunk = std::max(first_chunk, in.size() * 4);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  step s = drain(zs, out, limit, chunk);
  bool ended = s == step::done;
  if (s == step::more) {
    zs.next_in = const_cast<Bytef*>(deflate_tail);
    zs.avail_in = sizeof(deflate_tail);
    s = drain(zs, out, limit, chunk);
    ended = s == step::done;
  }
  zs.next_in = nullptr;
  zs.avail_in = 0;
  if (s == step::too_big || s == step::error) {
    // The stream is mid-block; nothing later can continue it.
    inflateReset(&zs);
    out.clear();
    return s == step::too_big ? inflate_status::too_big : inflate_status::error;
  }
  if (reset_after || ended) {
    inflateReset(&zs);
  }
  return inflate_status::ok;
}

} // namespace plexus::net::ws

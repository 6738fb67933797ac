#include "actors/deflate.hpp"

#include <zlib.h>

namespace plexus::actors {

namespace {

// One compressor per thread, reset per message: rooms on the same scheduler thread reuse
// its ~270 KB of zlib state instead of allocating it per broadcast.
class thread_deflater {
public:
  thread_deflater() {
    // Default level: each broadcast is compressed once and sent to every subscriber, so
    // the extra CPU over level 1 is paid once; a 15-bit window is what every client
    // accepts unless it asked for less (and those offers are declined, see handshake).
    ok_ = deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~thread_deflater() {
    if (ok_) {
      deflateEnd(&zs_);
    }
  }
  thread_deflater(const thread_deflater&) = delete;
  thread_deflater& operator=(const thread_deflater&) = delete;

  std::string compress(std::string_view in) {
    std::string out;
    if (!ok_ || deflateReset(&zs_) != Z_OK) {
      return out;
    }
    // deflateBound covers a whole stream; Z_SYNC_FLUSH adds an empty stored block
    // (at most 5 bytes plus bit padding) on top.
    out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())) + 16);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    std::size_t produced = 0;
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(&out[produced]);
      zs_.avail_out = static_cast<uInt>(out.size() - produced);
      int rc = deflate(&zs_, Z_SYNC_FLUSH);
      produced = out.size() - zs_.avail_out;
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return std::string();
      }
      if (zs_.avail_out != 0) {
        break;
      }
      out.resize(out.size() * 2);
    }
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    out.resize(produced);
    // RFC 7692 7.2.1: the sender removes the 00 00 ff ff that ends every sync flush.
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, "\x00\x00\xff\xff", 4) == 0) {
      out.resize(out.size() - 4);
    }
    return out;
  }

private:
  z_stream zs_{};
  bool ok_ = false;
};

} // namespace

std::string deflate_message(std::string_view in) {
  thread_local thread_deflater d;
  return d.compress(in);
}

} // namespace plexus::actors

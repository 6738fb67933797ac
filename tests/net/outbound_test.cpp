// The outbound path of a connection: frames pushed from other threads, one by one
// (push) or as a room's broadcast (io_worker::push_all), reach the socket in push order,
// and the slow-consumer policy holds for broadcasts. A real socket on 127.0.0.1, a real
// I/O worker thread.

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "actors/metrics.hpp"
#include "net/io_worker.hpp"
#include "net/tls.hpp"
#include "net/ws_connection.hpp"

namespace plexus::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

actors::frame_ptr text(std::string s) {
  auto f = std::make_shared<actors::frame>();
  f->json = std::move(s);
  return f;
}

/// One connection on a running worker, and the client end of its socket.
class outbound : public ::testing::Test {
protected:
  void SetUp() override {
    env_.websocket = &ws_;
    env_.stats = &stats_;
    env_.node_name = "test";
    worker_.start(std::chrono::milliseconds(1000));
    tcp::acceptor acceptor{client_ioc_, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    client_.connect(acceptor.local_endpoint());
    // Every read of a test is bounded: a frame that never comes fails the read.
    timeval tv{10, 0};
    ::setsockopt(client_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    tcp::socket server_side{worker_.context()};
    acceptor.accept(server_side);
    // Created and started on the worker thread, as the server does.
    std::promise<std::shared_ptr<ws_connection>> made;
    asio::post(worker_.context(), [&, s = std::move(server_side)]() mutable {
      ws_options opts;
      opts.mode = ws_mode::echo;
      opts.env = &env_;
      opts.peer = "test";
      auto c = std::make_shared<ws_connection>(std::move(s), worker_, std::move(opts), nullptr);
      c->greet({}, nullptr);
      c->start({}, caf::actor{});
      made.set_value(c);
    });
    conn_ = made.get_future().get();
  }

  void TearDown() override {
    conn_.reset();
    worker_.stop();
  }

  /// The payload of the next server frame (text, under 64 KiB).
  std::string next_text() {
    uint8_t head[2];
    asio::read(client_, asio::buffer(head, 2));
    EXPECT_EQ(head[0], 0x81) << "a final text frame";
    std::size_t len = head[1] & 0x7f;
    if (len == 126) {
      uint8_t ext[2];
      asio::read(client_, asio::buffer(ext, 2));
      len = (std::size_t{ext[0]} << 8) | ext[1];
    }
    std::string payload(len, '\0');
    asio::read(client_, asio::buffer(payload.data(), payload.size()));
    return payload;
  }

  websocket_settings ws_;
  actors::metrics stats_;
  connection_env env_;
  io_worker worker_{0};
  asio::io_context client_ioc_;
  tcp::socket client_{client_ioc_};
  std::shared_ptr<ws_connection> conn_;
};

TEST_F(outbound, single_pushes_and_broadcasts_arrive_in_push_order) {
  // A room's list with this connection in it, as fanout_plan hands it to the worker.
  actors::outbox_list list =
    std::make_shared<const std::vector<actors::outbox_ptr>>(std::vector<actors::outbox_ptr>{conn_});
  constexpr int n = 2000;
  std::thread pusher([&] {
    for (int i = 0; i < n; ++i) {
      auto f = text(std::to_string(i));
      if (i % 3 == 0) {
        worker_.push_all(f, actors::slow_consumer_policy::disconnect, list);
      } else {
        conn_->push(f, actors::slow_consumer_policy::disconnect);
      }
    }
  });
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(next_text(), std::to_string(i));
  }
  pusher.join();
}

TEST_F(outbound, a_reader_that_pauses_gets_everything_once_it_reads_again) {
  // 16 MB while the client reads nothing: more than loopback's socket buffers take, so
  // the writes stop on EAGAIN, and only the socket's writable edge can resume them.
  ws_.send_queue_limit_bytes = 64 << 20;
  const std::string chunk(1000, 'y');
  constexpr int n = 16000;
  for (int i = 0; i < n; ++i) {
    conn_->push(text(std::to_string(i) + chunk), actors::slow_consumer_policy::disconnect);
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(next_text(), std::to_string(i) + chunk) << "frame " << i;
  }
  EXPECT_EQ(stats_.slow_consumers_total.load(), 0u);
}

TEST_F(outbound, more_than_one_read_turn_of_input_is_all_echoed) {
  // /ws/echo; 1 MiB of client frames in one go: more than a readiness event's read budget
  // (8 x 64 KiB), so the rest is read on a later turn, with no new edge to announce it.
  constexpr int n = 100;
  const std::string payload(10000, 'z');
  std::string frame;
  frame += static_cast<char>(0x81);
  frame += static_cast<char>(0x80 | 126);
  frame += static_cast<char>(payload.size() >> 8);
  frame += static_cast<char>(payload.size() & 0xff);
  frame += std::string(4, '\0'); // mask key 0: the payload goes as is
  frame += payload;
  std::string all;
  for (int i = 0; i < n; ++i) {
    all += frame;
  }
  std::thread writer([&] { asio::write(client_, asio::buffer(all)); });
  for (int i = 0; i < n; ++i) {
    uint8_t head[4];
    asio::read(client_, asio::buffer(head, 4));
    ASSERT_EQ(head[0], 0x81);
    ASSERT_EQ(head[1], 126);
    std::string got((head[2] << 8) | head[3], '\0');
    asio::read(client_, asio::buffer(got.data(), got.size()));
    ASSERT_EQ(got, payload) << "echo " << i;
  }
  writer.join();
}

TEST_F(outbound, a_broadcast_past_the_queue_limit_cuts_a_reader_that_stopped) {
  ws_.send_queue_limit_bytes = 64 * 1024;
  actors::outbox_list list =
    std::make_shared<const std::vector<actors::outbox_ptr>>(std::vector<actors::outbox_ptr>{conn_});
  std::string chunk(100, 'x');
  // The client reads nothing: the socket buffers fill, then the queue passes the limit.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stats_.slow_consumers_total.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 1000; ++i) {
      worker_.push_all(text(chunk), actors::slow_consumer_policy::disconnect, list);
    }
    std::this_thread::yield();
  }
  ASSERT_EQ(stats_.slow_consumers_total.load(), 1u);
  // The client now reads everything up to the server's EOF (after its close timeout).
  std::string all;
  boost::system::error_code ec;
  char buf[65536];
  while (!ec) {
    auto got = client_.read_some(asio::buffer(buf), ec);
    all.append(buf, got);
  }
  ASSERT_EQ(ec, asio::error::eof);
  // The stream ends with a close frame carrying 4009.
  const std::string close_frame = std::string{"\x88\x0f\x0f\xa9", 4} + "slow consumer";
  ASSERT_GE(all.size(), close_frame.size());
  EXPECT_EQ(all.substr(all.size() - close_frame.size()), close_frame);
}

} // namespace
} // namespace plexus::net

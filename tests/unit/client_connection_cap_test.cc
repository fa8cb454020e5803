// ClientConnectionCap on real loopback sockets accepted in this process.
#include "agent/client_connection_cap.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace resmeter {
namespace {

int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(fd, 64), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A client socket from `source` connected to 127.0.0.1:port, or -1 when `source` cannot be bound.
int Connect(const char* source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    close(fd);
    return -1;
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
  return fd;
}

// True when the server side of `client` was shut down (the client reads EOF).
bool SeesEof(int client) {
  pollfd p{client, POLLIN, 0};
  if (poll(&p, 1, 200) != 1) return false;
  char c;
  return read(client, &c, 1) == 0;
}

TEST(client_connection_cap_test, newest_connections_beyond_the_cap_are_shut_down_per_address) {
  int port = 0;
  const int listener = Listen(&port);
  std::vector<int> hog_clients, hog_accepted;
  for (int i = 0; i < 5; ++i) {
    const int c = Connect("127.0.0.2", port);
    if (c < 0) GTEST_SKIP() << "cannot bind 127.0.0.2 (no 127/8 loopback)";
    hog_clients.push_back(c);
    hog_accepted.push_back(accept(listener, nullptr, nullptr));
  }
  const int other_client = Connect("127.0.0.1", port);
  const int other_accepted = accept(listener, nullptr, nullptr);

  ClientConnectionCap cap(port, 2);
  EXPECT_EQ(cap.Enforce(), 3u);
  // The two first-seen hog connections and the other client's stay open.
  int shut = 0;
  for (int c : hog_clients) shut += SeesEof(c) ? 1 : 0;
  EXPECT_EQ(shut, 3);
  EXPECT_FALSE(SeesEof(other_client));
  // Already shut down sockets are not counted again, and nothing more is over the cap.
  EXPECT_EQ(cap.Enforce(), 0u);
  // A new hog connection is the newest: it goes.
  const int late = Connect("127.0.0.2", port);
  const int late_accepted = accept(listener, nullptr, nullptr);
  EXPECT_EQ(cap.Enforce(), 1u);
  EXPECT_TRUE(SeesEof(late));
  // ShutdownPeer ends the other client's connection by its address and port.
  sockaddr_in me{};
  socklen_t len = sizeof me;
  getsockname(other_client, reinterpret_cast<sockaddr*>(&me), &len);
  EXPECT_TRUE(cap.ShutdownPeer("127.0.0.1", ntohs(me.sin_port)));
  EXPECT_TRUE(SeesEof(other_client));

  for (int fd : hog_clients) close(fd);
  for (int fd : hog_accepted) close(fd);
  for (int fd : {other_client, other_accepted, late, late_accepted, listener}) close(fd);
}

}  // namespace
}  // namespace resmeter

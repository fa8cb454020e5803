#include "agent/client_connection_cap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

namespace resmeter {
namespace {

struct Accepted {
  int fd;
  ino_t inode;
  uint64_t seq;
};

// The port of a socket address, or -1 for a family other than IPv4/IPv6.
int Port(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The address without the port; IPv4-mapped IPv6 addresses print as IPv4.
std::string Address(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  } else {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      inet_ntop(AF_INET, &v6.s6_addr[12], buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &v6, buf, sizeof buf);
    }
  }
  return buf;
}

}  // namespace

size_t ClientConnectionCap::Enforce() {
  std::lock_guard<std::mutex> lock(mu_);
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  std::map<std::string, std::vector<Accepted>> by_client;
  std::unordered_map<ino_t, uint64_t> seen;
  std::unordered_set<ino_t> still_shut;
  std::unordered_map<ino_t, std::string> peers;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    // The peer address of an accepted socket on our port, "" for any other
    // socket; cached by inode so a scan costs one fstat per known socket.
    auto known = peer_of_.find(st.st_ino);
    if (known == peer_of_.end()) {
      std::string peer_addr;
      sockaddr_storage local{}, peer{};
      socklen_t local_len = sizeof local, peer_len = sizeof peer;
      // The listening socket itself has no peer (ENOTCONN).
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0 &&
          Port(local) == listen_port_ &&
          getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) {
        peer_addr = Address(peer);
      }
      known = peer_of_.emplace(st.st_ino, std::move(peer_addr)).first;
    }
    peers[st.st_ino] = known->second;
    if (known->second.empty()) continue;
    auto it = first_seen_.find(st.st_ino);
    const uint64_t seq = it != first_seen_.end() ? it->second : next_seq_++;
    seen[st.st_ino] = seq;
    if (shut_.count(st.st_ino)) {  // already shut down, waiting for civetweb to close it: not counted
      still_shut.insert(st.st_ino);
      continue;
    }
    by_client[known->second].push_back({fd, st.st_ino, seq});
  }
  size_t closed = 0;
  for (auto& [client, conns] : by_client) {
    if (conns.size() <= max_per_client_) continue;
    std::sort(conns.begin(), conns.end(), [](const Accepted& a, const Accepted& b) { return a.seq < b.seq; });
    for (size_t i = max_per_client_; i < conns.size(); ++i) {
      // Still the same socket (civetweb may have closed the fd and reused the number meanwhile)?
      struct stat st;
      if (fstat(conns[i].fd, &st) == 0 && st.st_ino == conns[i].inode) {
        shutdown(conns[i].fd, SHUT_RDWR);
        still_shut.insert(conns[i].inode);
        ++closed;
      }
    }
  }
  closedir(dir);
  first_seen_ = std::move(seen);
  shut_ = std::move(still_shut);
  peer_of_ = std::move(peers);
  return closed;
}

bool ClientConnectionCap::ShutdownPeer(const std::string& remote_addr, int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return false;
  bool found = false;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 || Port(local) != listen_port_)
      continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (Port(peer) == remote_port && Address(peer) == remote_addr) {
      shutdown(fd, SHUT_RDWR);
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace resmeter

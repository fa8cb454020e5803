// Helpers for the network meter tests: run a registered net.* meter with
// option overrides, and a scripted fake peer on loopback that misbehaves on
// purpose. Header-only; all sockets are on 127.0.0.1 and every thread is
// joined by the destructor.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/env.h"
#include "peer/net_socket.h"
#include "meters/registry/registry.h"
#include "meters/registry/runner.h"

namespace resmeter::testing {

// Runs meter `name` once with its defaults overridden by `overrides`.
inline MeterRun RunNetMeter(const std::string& name, const nlohmann::json& overrides, const Signer* signer,
                            double timeout_seconds = 30) {
  const MeterInfo* info = FindMeter(name);
  MeterPlan plan;
  plan.info = info;
  plan.timeout_seconds = timeout_seconds;
  nlohmann::json values = nlohmann::json::object();
  for (const auto& spec : info->options) values[spec.key] = spec.default_value;
  for (const auto& [k, v] : overrides.items()) values[k] = v;
  plan.options = Options(values);
  RunnerRoots roots;
  roots.signer = signer;
  MeterRunner runner(DefaultEnv(), roots);
  return runner.Run(plan);
}

// A loopback listener that hands every accepted connection to `behaviour`
// on its own thread. Stop() (or the destructor) ends and joins everything;
// behaviours must watch `stop` and return within about a second.
class FakePeer {
 public:
  using Behaviour = std::function<void(Socket, const std::atomic<bool>& stop)>;
  explicit FakePeer(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
    auto l = ListenTcp(HostPort{"127.0.0.1", 0});
    if (!l.ok()) std::abort();
    listener_ = std::move(*l);
    port_ = BoundPort(listener_.fd());
    accept_ = std::thread([this] {
      while (!stop_.load()) {
        if (!WaitFd(listener_.fd(), POLLIN, MonotonicNow() + 0.1, &stop_).ok()) continue;
        Socket s(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!s.valid()) continue;
        workers_.emplace_back([this, sock = std::move(s)]() mutable { behaviour_(std::move(sock), stop_); });
      }
    });
  }
  ~FakePeer() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (accept_.joinable()) accept_.join();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  Behaviour behaviour_;
  Socket listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_;
  std::list<std::thread> workers_;
};

// Sleeps until `stop` or `seconds` passed.
inline void IdleUntil(const std::atomic<bool>& stop, double seconds) {
  const double end = MonotonicNow() + seconds;
  while (!stop.load() && MonotonicNow() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// A loopback port with nothing listening (bound, then closed).
inline std::string ClosedLoopbackTarget() {
  auto l = ListenTcp(HostPort{"127.0.0.1", 0});
  uint16_t port = BoundPort(l->fd());
  return "127.0.0.1:" + std::to_string(port);  // the socket closes here
}

}  // namespace resmeter::testing

// `resmeter peer --listen ADDR:PORT`: the network measurement responder.
// Serves net.throughput / net.latency sessions of other agents and co-signs
// their summaries with the peer's persistent key (`resmeter key init`,
// key_origin "file", pinned by thumbprint by buyers), until SIGINT/SIGTERM
// (or --duration). The peer is run by the buyer, not by the provider.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "peer/net_peer_server.h"
#include "jose/key_store.h"

namespace resmeter {
namespace {

std::atomic<bool> g_peer_stop{false};

// Signal handler: asks the serving loop to stop.
void OnStopSignal(int) { g_peer_stop.store(true); }

struct PeerArgs {
  PeerServerOptions server;
  double run_seconds = 0;  // 0: until a signal
  bool quiet = false;
};

int RunPeer(const CliGlobals& globals, const PeerArgs& args) {
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  auto key = LoadSigningKey(config->global.String("state_dir"));
  if (!key.ok()) return Fail(kExitUsage, key.status().message() + " (the peer needs a persistent key: run `resmeter key init` first)");
  PeerServer::Log log;
  if (!args.quiet) log = [](const std::string& line) { std::fprintf(stderr, "resmeter peer: %s\n", line.c_str()); };
  PeerServer server(args.server, key->get(), log);
  Status started = server.Start();
  if (!started.ok()) return Fail(kExitUsage, "peer: " + started.message());
  std::fprintf(stderr, "resmeter peer: listening on %s (port %u), key %s\n", args.server.listen.c_str(),
               static_cast<unsigned>(server.port()), (*key)->Thumbprint().c_str());
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  const double start = MonotonicNow();
  while (!g_peer_stop.load() && (args.run_seconds <= 0 || MonotonicNow() - start < args.run_seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  server.Stop();
  auto c = server.counters();
  std::fprintf(stderr, "resmeter peer: stopped; sessions signed %llu, failed %llu, refused %llu\n",
               static_cast<unsigned long long>(c.sessions_signed), static_cast<unsigned long long>(c.sessions_failed),
               static_cast<unsigned long long>(c.sessions_refused));
  return kExitOk;
}

}  // namespace

void RegisterPeerCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<PeerArgs>();
  auto* cmd = app.add_subcommand("peer", "serve network measurements of other agents and co-sign them");
  cmd->add_option("--listen", args->server.listen, "address to listen on, ADDR:PORT ([v6]:PORT)")->required();
  cmd->add_option("--max-sessions", args->server.max_sessions, "sessions served at once (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--idle-timeout", args->server.idle_timeout_seconds,
                  "seconds a session may stay silent (default 10)")->check(CLI::Range(0.1, 600.0));
  cmd->add_option("--session-timeout", args->server.session_timeout_seconds,
                  "seconds a whole session may last (default 120)")->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--duration", args->run_seconds, "stop after this many seconds (default: until a signal)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_flag("--quiet", args->quiet, "do not log sessions on standard error");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunPeer(globals, *args); });
}

}  // namespace resmeter

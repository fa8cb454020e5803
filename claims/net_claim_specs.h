// Declared claims of the net.* meters. Both carry a `targets` array with one
// object per configured peer; the members every target carries (its
// address, status, the peer's key and both co-signatures) are declared once
// under the meter name "net" and listed by both meters.
// See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

// Shared by net.throughput and net.latency.
inline constexpr ClaimSpec kNetTargets{"net", "targets", "", ClaimType::kArray,
                                       "one object per configured peer, in config order"};
inline constexpr ClaimSpec kNetTargetsOk{
    "net", "targets_ok", "count", ClaimType::kInteger, "targets measured", {}, {}};
inline constexpr ClaimSpec kNetTargetsFailed{
    "net", "targets_failed", "count", ClaimType::kInteger, "targets that failed", {}, {}};
inline constexpr ClaimSpec kNetTarget{"net", "targets[].target", "", ClaimType::kString,
                                      "the peer's host:port from the config"};
inline constexpr ClaimSpec kNetTargetStatus{"net", "targets[].status", "", ClaimType::kString,
                                            "ok or failed"};
inline constexpr ClaimSpec kNetTargetReason{"net", "targets[].reason", "", ClaimType::kString,
                                            "why the target failed"};
inline constexpr ClaimSpec kNetPeerThumbprint{
    "net", "targets[].peer_thumbprint", "", ClaimType::kString,
    "RFC 7638 thumbprint of the peer's key (policies match peers by it)"};
inline constexpr ClaimSpec kNetPeerJwk{"net", "targets[].peer_jwk", "", ClaimType::kObject,
                                       "the peer's public key"};
inline constexpr ClaimSpec kNetPeerSignature{"net", "targets[].peer_signature_jws", "", ClaimType::kString,
                                             "the peer's signature over the session summary"};
inline constexpr ClaimSpec kNetAgentSignature{"net", "targets[].agent_signature_jws", "", ClaimType::kString,
                                              "the agent's signature over the same summary"};

// net.throughput
inline constexpr ClaimSpec kNetUploadBps{"net.throughput",
                                         "targets[].upload_bps",
                                         "bits/s",
                                         ClaimType::kNumber,
                                         "upload throughput the peer counted",
                                         "net.upload_gbit_per_second",
                                         "resmeter_net_throughput_upload_bits_per_second",
                                         {},
                                         "peer=target"};
inline constexpr ClaimSpec kNetDownloadBps{"net.throughput",
                                           "targets[].download_bps",
                                           "bits/s",
                                           ClaimType::kNumber,
                                           "download throughput the agent counted",
                                           "net.download_gbit_per_second",
                                           "resmeter_net_throughput_download_bits_per_second",
                                           {},
                                           "peer=target"};
inline constexpr ClaimSpec kNetDirectionBytes{"net.throughput", "targets[].{direction:upload|download}_bytes",
                                              "bytes", ClaimType::kInteger,
                                              "payload bytes counted in the window"};
inline constexpr ClaimSpec kNetDirectionWindow{"net.throughput",
                                               "targets[].{direction:upload|download}_window_seconds",
                                               "seconds", ClaimType::kNumber, "the counting window"};
inline constexpr ClaimSpec kNetDirectionStreamBps{"net.throughput",
                                                  "targets[].{direction:upload|download}_stream_bps",
                                                  "bits/s", ClaimType::kArray, "throughput of each stream"};
inline constexpr ClaimSpec kNetUploadSentBytes{
    "net.throughput", "targets[].upload_sent_bytes", "bytes", ClaimType::kInteger,
    "bytes the agent's upload sockets accepted (the peer's count never exceeds it)"};

// net.latency
inline constexpr ClaimSpec kNetRttCount{"net.latency", "targets[].rtt_count", "count", ClaimType::kInteger,
                                        "round trips timed"};
inline constexpr ClaimSpec kNetRttMin{"net.latency",
                                      "targets[].rtt_min_seconds",
                                      "seconds",
                                      ClaimType::kNumber,
                                      "fastest round trip",
                                      {},
                                      "resmeter_net_latency_rtt_min_seconds",
                                      {},
                                      "peer=target"};
inline constexpr ClaimSpec kNetRttP50{"net.latency",
                                      "targets[].rtt_p50_seconds",
                                      "seconds",
                                      ClaimType::kNumber,
                                      "median round trip",
                                      {},
                                      "resmeter_net_latency_rtt_p50_seconds",
                                      {},
                                      "peer=target"};
inline constexpr ClaimSpec kNetRttP99{"net.latency",
                                      "targets[].rtt_p99_seconds",
                                      "seconds",
                                      ClaimType::kNumber,
                                      "99th percentile round trip",
                                      "net.rtt_p99_ms",
                                      "resmeter_net_latency_rtt_p99_seconds",
                                      {},
                                      "peer=target"};
inline constexpr ClaimSpec kNetRttMax{"net.latency",
                                      "targets[].rtt_max_seconds",
                                      "seconds",
                                      ClaimType::kNumber,
                                      "slowest round trip",
                                      {},
                                      "resmeter_net_latency_rtt_max_seconds",
                                      {},
                                      "peer=target"};
inline constexpr ClaimSpec kNetRttMean{"net.latency",
                                       "targets[].rtt_mean_seconds",
                                       "seconds",
                                       ClaimType::kNumber,
                                       "mean round trip",
                                       {},
                                       "resmeter_net_latency_rtt_mean_seconds",
                                       {},
                                       "peer=target"};

inline constexpr ClaimSpec kNetRttHistogram{
    "net.latency", "targets[].rtt_histogram", "", ClaimType::kObject,
    "round-trip histogram in fio's json+ bucket layout (bucket start in ns -> count)"};

inline constexpr const ClaimSpec* kNetThroughputClaims[] = {
    &kNetTargets,        &kNetTargetsOk,       &kNetTargetsFailed,      &kNetTarget,
    &kNetTargetStatus,   &kNetTargetReason,    &kNetPeerThumbprint,     &kNetPeerJwk,
    &kNetPeerSignature,  &kNetAgentSignature,  &kNetUploadBps,          &kNetDownloadBps,
    &kNetDirectionBytes, &kNetDirectionWindow, &kNetDirectionStreamBps, &kNetUploadSentBytes};
inline constexpr const ClaimSpec* kNetLatencyClaims[] = {
    &kNetTargets,      &kNetTargetsOk,      &kNetTargetsFailed, &kNetTarget,        &kNetTargetStatus,
    &kNetTargetReason, &kNetPeerThumbprint, &kNetPeerJwk,       &kNetPeerSignature, &kNetAgentSignature,
    &kNetRttCount,     &kNetRttMin,         &kNetRttP50,        &kNetRttP99,        &kNetRttMax,
    &kNetRttMean,      &kNetRttHistogram};

}  // namespace resmeter

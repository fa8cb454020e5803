#include "support/ledger_generator.h"

#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"

namespace resmeter {

Result<LedgerGeneratorSummary> GenerateLedger(const LedgerGeneratorOptions& o,
                                              std::shared_ptr<const Signer> signer) {
  LedgerWriterOptions wo;
  wo.dir = o.dir;
  wo.checkpoint_every = o.checkpoint_every;
  wo.max_file_bytes = o.max_file_bytes;
  wo.sync = false;
  wo.collect_evidence = o.collect_evidence;
  wo.epoch_evidence = o.epoch_evidence;
  LedgerGeneratorSummary sum;
  double t = o.start_unix_seconds;
  RESMETER_ASSIGN_OR_RETURN(auto writer, LedgerWriter::Open(wo, signer, LedgerClock{t, true, ""}));
  const uint64_t every = o.restarts ? o.usage_statements / (o.restarts + 1) : 0;
  for (uint64_t i = 0; i < o.usage_statements; ++i) {
    if (every && i > 0 && i % every == 0 && i / every <= o.restarts) {
      RESMETER_RETURN_IF_ERROR(writer->Close());
      writer.reset();
      t += o.restart_gap_seconds;
      if (o.new_key_per_restart) {
        RESMETER_ASSIGN_OR_RETURN(auto fresh, SigningKey::Generate(kAlgEdDSA));
        signer = fresh;
      }
      RESMETER_ASSIGN_OR_RETURN(writer, LedgerWriter::Open(wo, signer, LedgerClock{t, true, ""}));
    }
    LedgerUsage u;
    u.start_unix_seconds = t;
    u.end_unix_seconds = t + o.period_seconds;
    u.vcpu_delivered_seconds = o.vcpus * o.period_seconds * o.delivered_ratio;
    u.vcpu_stolen_seconds = o.vcpus * o.period_seconds * (1 - o.delivered_ratio);
    u.memory_gib_seconds = o.memory_gib * o.period_seconds;
    u.gpu_seconds = o.gpus * o.period_seconds;
    u.time_trusted = !(i >= o.untrusted_from && i < o.untrusted_to);
    if (!u.time_trusted) u.time_reason = "chronyd not synchronized";
    u.report_digest = "5d1c0c4e6bd5ab4c3c8d6f1c1e1d8a0f2e5b0b8e0c9f0a2d3e4f5a6b7c8d9e0f";
    RESMETER_RETURN_IF_ERROR(writer->AppendUsage(u).status());
    sum.delivered_vcpu_seconds += u.vcpu_delivered_seconds;
    sum.stolen_vcpu_seconds += u.vcpu_stolen_seconds;
    sum.memory_gib_seconds += u.memory_gib_seconds;
    sum.gpu_seconds += u.gpu_seconds;
    t = u.end_unix_seconds;
  }
  if (o.close) RESMETER_RETURN_IF_ERROR(writer->Close());
  sum.last_seq = writer->last_seq();
  sum.lines = sum.last_seq;
  sum.end_unix_seconds = t;
  return sum;
}

}  // namespace resmeter

#include "ledger/ledger_statement.h"

#include <gtest/gtest.h>

#include "ledger/ledger_files.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

LedgerStatement Usage(const std::string& kid) {
  LedgerStatement s;
  s.seq = 7;
  s.prev = std::string(kLedgerGenesisPrev);
  s.kind = LedgerKind::kUsage;
  s.kid = kid;
  s.start_unix_seconds = 1800000000;
  s.end_unix_seconds = 1800000060.25;
  s.vcpu_delivered_seconds = 235.2;
  s.vcpu_stolen_seconds = 4.8;
  s.memory_gib_seconds = 960;
  s.gpu_seconds = 60;
  s.time_trusted = false;
  s.time_reason = "chronyd \"not\" synchronized";
  return s;
}

TEST(ledger_statement_test, usage_round_trips_signed) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto line = SealLedgerStatement(Usage(key->Thumbprint()), *key);
  ASSERT_TRUE(line.ok()) << line.status().message();
  EXPECT_NE(line->find(",\"sig\":\""), std::string::npos) << "every v2 statement is signed";
  EXPECT_NE(line->find("{\"v\":2,"), std::string::npos);
  auto back = ParseLedgerLine(*line);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->kind, LedgerKind::kUsage);
  EXPECT_DOUBLE_EQ(back->end_unix_seconds, 1800000060.25);
  EXPECT_DOUBLE_EQ(back->vcpu_delivered_seconds, 235.2);
  EXPECT_EQ(back->time_reason, "chronyd \"not\" synchronized");
  EXPECT_EQ(*SealLedgerStatement(*back, *key),
            *line);  // canonical: parse + serialize is identity (Ed25519 is deterministic)
  EXPECT_TRUE(VerifyLedgerSignature(*line, key->public_key()).ok());
}

TEST(ledger_statement_test, epoch_round_trips_with_its_key_and_evidence) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  LedgerStatement s = Usage(key->Thumbprint());
  s.kind = LedgerKind::kEpoch;
  s.vcpu_delivered_seconds = s.vcpu_stolen_seconds = s.memory_gib_seconds = s.gpu_seconds = 0;
  s.jwk = key->PublicJwk().dump();
  s.key_origin = "ephemeral";
  s.evidence = R"({"type":"none","reason":"development mode: \"x\""})";
  s.prev_epoch_kid = "abc";
  s.cut_bytes = 123;
  s.cut_sha256 = std::string(64, 'f');
  s.cut_file = "ledger-00000000000000000001.jsonl";
  s.clean = false;
  s.reason = "recovered after unclean stop";
  auto line = SealLedgerStatement(s, *key);
  ASSERT_TRUE(line.ok());
  auto back = ParseLedgerLine(*line);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->kind, LedgerKind::kEpoch);
  EXPECT_EQ(back->jwk, s.jwk);
  EXPECT_EQ(back->evidence, s.evidence);
  EXPECT_EQ(back->cut_bytes, 123u);
  EXPECT_EQ(back->cut_file, s.cut_file);
  EXPECT_FALSE(back->clean);
  EXPECT_EQ(*SealLedgerStatement(*back, *key), *line);
}

TEST(ledger_statement_test, every_kind_verifies_and_detects_edits_and_other_keys) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto other = *SigningKey::Generate(kAlgEdDSA);
  for (LedgerKind kind : {LedgerKind::kUsage, LedgerKind::kCheckpoint}) {
    LedgerStatement s = Usage(key->Thumbprint());
    s.kind = kind;
    if (kind == LedgerKind::kCheckpoint) s.reason = "shutdown";
    auto line = SealLedgerStatement(s, *key);
    ASSERT_TRUE(line.ok());
    auto parsed = ParseLedgerLine(*line);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message() << " " << *line;
    EXPECT_FALSE(parsed->sig.empty());
    EXPECT_TRUE(VerifyLedgerSignature(*line, key->public_key()).ok()) << *line;
    EXPECT_EQ(VerifyLedgerSignature(*line, other->public_key()).code(), Status::Code::kVerifyFailed);
    std::string edited = *line;
    edited.replace(edited.find("\"seq\":7"), 7, "\"seq\":8");
    EXPECT_EQ(VerifyLedgerSignature(edited, key->public_key()).code(), Status::Code::kVerifyFailed);
  }
}

TEST(ledger_statement_test, es384_signatures_verify) {
  auto key = *SigningKey::Generate(kAlgES384);
  LedgerStatement s = Usage(key->Thumbprint());
  s.kind = LedgerKind::kCheckpoint;
  s.reason = "shutdown";
  auto line = SealLedgerStatement(s, *key);
  ASSERT_TRUE(line.ok());
  EXPECT_TRUE(VerifyLedgerSignature(*line, key->public_key()).ok());
}

TEST(ledger_statement_test, parser_rejects_malformed_lines_with_reason) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  const std::string good = *SealLedgerStatement(Usage(key->Thumbprint()), *key);
  auto reject = [](const std::string& line, const std::string& want) {
    auto r = ParseLedgerLine(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  };
  reject("", "not a JSON object");
  reject("[1]", "not a JSON object");
  reject(good.substr(0, good.size() - 1), "not a JSON object");
  reject("{\"v\":3}", "'v'");
  reject("{\"v\":1,\"seq\":1}", "v1 ledger line");
  std::string s = good;
  reject(s.replace(s.find("\"seq\":7"), 7, "\"seq\":0"), "'seq'");
  s = good;
  reject(s.replace(s.find("\"prev\":\"0"), 9, "\"prev\":\"x"), "'prev'");
  s = good;
  reject(s.replace(s.find("usage"), 5, "bogus"), "unknown kind");
  s = good;
  reject(s.replace(s.find("\"gpu_seconds\":60"), 16, "\"gpu_seconds\":-1"), "negative");
  s = good;
  reject(s.replace(s.size() - 1, 1, ",\"extra\":1}"), "unknown member 'extra'");
  s = good;
  reject(s.replace(s.size() - 2, 2, "\",\"cut_bytes\":1}"), "has no 'cut_bytes'");
  reject(std::string(kMaxLedgerLineBytes + 1, ' '), "longer than");
  s = good;
  reject(s.replace(s.find("\"seq\":7"), 7, "\"seq\":7.5"), "'seq'");
  s = good;
  reject(s.replace(s.find("\"gpu_seconds\":60"), 16, "\"gpu_seconds\":\"60\""), "'gpu_seconds'");
  s = good;
  reject(s.replace(s.find("\"seq\":7"), 7, "\"seq\":7,\"seq\":8"), "duplicate member");
}

TEST(ledger_statement_test, line_hash_is_sha256_hex) {
  EXPECT_EQ(LedgerLineHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ledger_files_test, names_sort_in_chain_order) {
  EXPECT_EQ(LedgerFileName(1), "ledger-00000000000000000001.jsonl");
  EXPECT_EQ(*ParseLedgerFileName(LedgerFileName(18446744073709551615ull)), 18446744073709551615ull);
  EXPECT_FALSE(ParseLedgerFileName("ledger-1.jsonl").has_value());
  EXPECT_FALSE(ParseLedgerFileName("ledger-0000000000000000000x.jsonl").has_value());
  EXPECT_LT(LedgerFileName(9), LedgerFileName(10));
}

}  // namespace
}  // namespace resmeter

// CollectorStore on SQLite: versioned migrations, idempotent ingestion,
// fork versions kept beside the first statement, events, leases.
#include "collector/collector_store.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace resmeter {
namespace {

StatementRecord Record(uint64_t seq, const std::string& line) {
  StatementRecord r;
  r.seq = seq;
  r.line = line;
  r.line_sha256 = "sha-of-" + line;
  r.kind = "usage";
  r.kid = "kid";
  r.start_unix_seconds = 1800000000.125;
  r.end_unix_seconds = 1800000060.5;
  r.vcpu_delivered_seconds = 235.19999999999999;
  r.chain_verdict = "accepted";
  return r;
}

class CollectorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = CollectorStore::Open("", dir_.path());
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    CollectorAgent a;
    a.ueid = "ueid-1";
    a.url = "http://127.0.0.1:1/a/0";
    a.source = "api";
    a.kid = "kid";
    auto admitted = store_->AdmitAgent(a, "{}", "none", 1);
    ASSERT_TRUE(admitted.ok()) << admitted.status().message();
    agent_ = *admitted;
  }
  TempDir dir_;
  std::unique_ptr<CollectorStore> store_;
  CollectorAgent agent_;
};

TEST_F(CollectorStoreTest, MigratesOnceAndReopens) {
  EXPECT_STREQ(store_->backend(), "sqlite");
  EXPECT_EQ(*store_->SchemaVersion(), kCollectorSchemaVersion);
  store_.reset();
  auto again = CollectorStore::Open("sqlite:" + dir_.path() + "/collector.sqlite", dir_.path());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*(*again)->SchemaVersion(), kCollectorSchemaVersion);
  auto agents = (*again)->Agents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].ueid, "ueid-1");
}

TEST_F(CollectorStoreTest, AdmittingTwiceKeepsOneAgent) {
  CollectorAgent a = agent_;
  a.url = "http://127.0.0.1:2/a/0";
  auto again = store_->AdmitAgent(a, "{}", "none", 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, agent_.id);
  EXPECT_EQ(again->url, "http://127.0.0.1:2/a/0");
  EXPECT_EQ(store_->Agents()->size(), 1u);
}

TEST_F(CollectorStoreTest, IngestionIsIdempotentAndKeepsForks) {
  auto first = store_->StoreStatements(agent_.id, {Record(1, "a"), Record(2, "b")}, 10);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ((*first)[0], StatementIngest::kStored);
  EXPECT_EQ((*first)[1], StatementIngest::kStored);
  // Pulled twice: stored once.
  auto twice = store_->StoreStatements(agent_.id, {Record(2, "b"), Record(3, "c")}, 11);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ((*twice)[0], StatementIngest::kAlreadyStored);
  EXPECT_EQ((*twice)[1], StatementIngest::kStored);
  EXPECT_EQ(*store_->CountStatements(agent_.id), 3u);
  // Another statement at a stored seq: a fork, kept as a version; seen again: known.
  auto fork = store_->StoreStatements(agent_.id, {Record(2, "B")}, 12);
  ASSERT_TRUE(fork.ok());
  EXPECT_EQ((*fork)[0], StatementIngest::kNewVersion);
  auto fork_again = store_->StoreStatements(agent_.id, {Record(2, "B")}, 13);
  EXPECT_EQ((*fork_again)[0], StatementIngest::kKnownVersion);
  EXPECT_EQ(*store_->CountStatements(agent_.id), 3u);
  EXPECT_EQ(*store_->CountVersions(agent_.id), 1u);
  // The first version stays the primary one.
  auto lines = store_->StatementLines(agent_.id, 1, 10);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[1].second, "b");
  EXPECT_EQ(*store_->LastSeq(agent_.id), 3u);
  auto from2 = store_->StatementLines(agent_.id, 2, 1);
  ASSERT_EQ(from2->size(), 1u);
  EXPECT_EQ((*from2)[0].first, 2u);
}

TEST_F(CollectorStoreTest, EventsNewestFirst) {
  for (int i = 0; i < 3; ++i) {
    CollectorEvent e;
    e.at_unix_seconds = 100 + i;
    e.kind = i == 2 ? "fork" : "unreachable";
    e.severity = "error";
    e.seq = static_cast<uint64_t>(i);
    e.detail = "detail " + std::to_string(i);
    e.collector = "c1";
    ASSERT_TRUE(store_->AddEvent(agent_.id, e).ok());
  }
  auto events = store_->Events(agent_.id, 2);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, "fork");
  EXPECT_EQ((*events)[0].ueid, "ueid-1");
  EXPECT_DOUBLE_EQ((*events)[0].at_unix_seconds, 102);
}

TEST_F(CollectorStoreTest, LeaseHeldUntilExpiryOrRelease) {
  EXPECT_TRUE(*store_->AcquireLease(agent_.id, "c1", 100, 10));
  EXPECT_FALSE(*store_->AcquireLease(agent_.id, "c2", 105, 10));  // c1's until 110
  EXPECT_TRUE(*store_->AcquireLease(agent_.id, "c1", 105, 10));   // renewed to 115
  EXPECT_FALSE(*store_->AcquireLease(agent_.id, "c2", 112, 10));
  EXPECT_TRUE(*store_->AcquireLease(agent_.id, "c2", 116, 10));  // expired: taken over
  ASSERT_TRUE(store_->ReleaseLease(agent_.id, "c2").ok());
  EXPECT_TRUE(*store_->AcquireLease(agent_.id, "c1", 117, 10));
  ASSERT_TRUE(store_->Heartbeat("c1", 100, 10).ok());
  ASSERT_TRUE(store_->Heartbeat("c2", 100, 20).ok());
  EXPECT_EQ(store_->LiveCollectors(115)->size(), 1u);
  ASSERT_TRUE(store_->ReleaseLeases("c2").ok());
  EXPECT_TRUE(store_->LiveCollectors(100)->size() == 1u);
}

TEST(CollectorStoreOpen, BadPostgresUriIsOneLine) {
  auto s = CollectorStore::Open("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=1", "/nonexistent");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().find("secret"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace resmeter

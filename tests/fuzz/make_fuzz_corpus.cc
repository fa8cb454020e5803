// Writes the valid seed inputs of the fuzz targets, made by the project's own
// code with a fresh Ed25519 key whose public JWK goes to fuzz-key.jwk (the
// targets verify with it). Not a fuzz target; run by hand after a format change:
//   build-check/tests/fuzz/make_fuzz_corpus tests/fuzz [CLAIMS.json ...]
// CLAIMS.json: claims of real reports (`resmeter verify --json` .claims),
// re-signed with the corpus key. Malformed seeds are kept in the tree by hand.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <tss2/tss2_mu.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent/config.h"
#include "core/strings.h"
#include "evidence/evidence.h"
#include "evidence/evidence_none.h"
#include "evidence/tpm2_ak_template.h"
#include "jose/signing_key.h"
#include "report/report.h"
#include "support/ledger_generator.h"
#include "timesource/time_claim.h"

namespace resmeter {
namespace {

constexpr double kIssuedAt = 1'800'000'000;  // fuzz_support.h: kCorpusNowUnixSeconds - 60
constexpr char kNonceHex[] = "00112233445566778899aabbccddeeff";  // fuzz_support.h: kCorpusNonceHex

std::string dir;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir + "/corpus/" + target);
  std::ofstream(dir + "/corpus/" + target + "/" + name, std::ios::binary) << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "make_fuzz_corpus: %s failed\n", what);
    std::exit(1);
  }
}

// A synthetic but well-formed TPM 2.0 quote by a fresh P-256 restricted
// signing key over PCRs 0-2 of the sha256 bank (PCR 0 all zero).
struct Quote {
  std::string attest, signature, ak_public;
  std::string pcrs[3];
};

std::string Marshal2B(const uint8_t* buf, size_t n) {
  return std::string(reinterpret_cast<const char*>(buf), n);
}

Quote MakeQuote(const std::string& extra_data) {
  Quote q;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EVP_EC_gen");
  BIGNUM *x = nullptr, *y = nullptr;
  Check(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y),
        "EC point");
  TPM2B_PUBLIC pub = {};
  pub.publicArea = ResmeterAkPublicTemplate();
  TPMT_PUBLIC& area = pub.publicArea;
  area.unique.ecc.x.size = 32;
  area.unique.ecc.y.size = 32;
  BN_bn2binpad(x, area.unique.ecc.x.buffer, 32);
  BN_bn2binpad(y, area.unique.ecc.y.buffer, 32);
  BN_free(x);
  BN_free(y);
  uint8_t buf[4096];
  size_t off = 0;
  Check(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, sizeof buf, &off) == TSS2_RC_SUCCESS, "marshal TPM2B_PUBLIC");
  q.ak_public = Marshal2B(buf, off);

  TPMS_ATTEST att = {};
  att.magic = TPM2_GENERATED_VALUE;
  att.type = TPM2_ST_ATTEST_QUOTE;
  att.extraData.size = static_cast<UINT16>(extra_data.size());
  std::memcpy(att.extraData.buffer, extra_data.data(), extra_data.size());
  att.clockInfo.clock = 123456789;
  att.clockInfo.resetCount = 3;
  att.clockInfo.restartCount = 1;
  att.clockInfo.safe = 1;
  att.firmwareVersion = 0x2000000000001ULL;
  TPML_PCR_SELECTION& sel = att.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0x07;
  std::string concat;
  for (int i = 0; i < 3; ++i) {
    q.pcrs[i] = std::string(32, static_cast<char>(i * 0x11));
    concat += q.pcrs[i];
  }
  att.attested.quote.pcrDigest.size = 32;
  SHA256(reinterpret_cast<const unsigned char*>(concat.data()), concat.size(),
         att.attested.quote.pcrDigest.buffer);
  off = 0;
  Check(Tss2_MU_TPMS_ATTEST_Marshal(&att, buf, sizeof buf, &off) == TSS2_RC_SUCCESS, "marshal TPMS_ATTEST");
  q.attest = Marshal2B(buf, off);

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char der[128];
  size_t der_len = sizeof der;
  Check(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, der, &der_len, reinterpret_cast<const unsigned char*>(q.attest.data()),
                           q.attest.size()) == 1,
        "ECDSA sign");
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  const unsigned char* p = der;
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  Check(es != nullptr, "ECDSA_SIG");
  TPMT_SIGNATURE sig = {};
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  sig.signature.ecdsa.signatureR.size = 32;
  sig.signature.ecdsa.signatureS.size = 32;
  BN_bn2binpad(ECDSA_SIG_get0_r(es), sig.signature.ecdsa.signatureR.buffer, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), sig.signature.ecdsa.signatureS.buffer, 32);
  ECDSA_SIG_free(es);
  off = 0;
  Check(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, buf, sizeof buf, &off) == TSS2_RC_SUCCESS,
        "marshal TPMT_SIGNATURE");
  q.signature = Marshal2B(buf, off);
  return q;
}

// tpm2_quote_fuzz.cc's input layout.
std::string QuoteFuzzInput(const Quote& q, uint8_t flags) {
  std::string out(1, static_cast<char>(flags));
  for (const std::string* blob : {&q.attest, &q.signature, &q.ak_public}) {
    out += static_cast<char>(blob->size() >> 8);
    out += static_cast<char>(blob->size() & 0xff);
    out += *blob;
  }
  for (const auto& pcr : q.pcrs) out += pcr;
  return out;
}

nlohmann::json QuoteEvidence(const Quote& q, const std::string& user_data) {
  nlohmann::json pcrs = nlohmann::json::object();
  for (int i = 0; i < 3; ++i) pcrs[std::to_string(i)] = HexEncode(q.pcrs[i]);
  return {{"type", "tpm2"},
          {"user_data", HexEncode(user_data)},
          {"attest", Base64Encode(q.attest)},
          {"signature", Base64Encode(q.signature)},
          {"ak_public", Base64Encode(q.ak_public)},
          {"pcr_bank", "sha256"},
          {"pcrs", pcrs}};
}

std::string Frame(const nlohmann::json& msg) {
  std::string body = msg.dump();
  std::string out = {static_cast<char>(body.size() >> 24), static_cast<char>(body.size() >> 16),
                     static_cast<char>(body.size() >> 8), static_cast<char>(body.size())};
  return out + body;
}

int Main(int argc, char** argv) {
  Check(argc >= 2, "usage: make_fuzz_corpus TESTS_FUZZ_DIR [CLAIMS.json ...]");
  dir = argv[1];
  auto key_or = SigningKey::Generate(kAlgEdDSA);
  Check(key_or.ok(), "key generation");
  std::shared_ptr<SigningKey> key = *key_or;
  std::ofstream(dir + "/fuzz-key.jwk") << key->PublicJwk().dump(2) << "\n";
  const std::string thumb = key->Thumbprint();
  const std::string nonce = *HexDecode(kNonceHex);

  // Reports: the project's own claims (time, none evidence, submods), plain and challenged.
  NoneBackend none("fuzz corpus: no TEE");
  nlohmann::json time = CurrentTimeClaim(DefaultConfig().global, kIssuedAt);
  for (int challenged = 0; challenged < 2; ++challenged) {
    ReportInputs in;
    in.issued_at_unix_seconds = kIssuedAt;
    in.time = time;
    in.evidence = *none.Collect(ComputeUserData(thumb, challenged ? nonce : ""));
    in.submods = {
        {"cpu.topology",
         {{"status", "ok"},
          {"duration_seconds", 0.002},
          {"claims", {{"logical_cpus", 2}, {"l3_bytes", 33554432}, {"smt", false}}},
          {"findings", {{{"code", "smt_off"}, {"message", "SMT disabled"}}}}}},
        {"gpu.devices", {{"status", "unavailable"}, {"duration_seconds", 0.0}, {"reason", "no NVML"}}}};
    if (challenged) in.nonce_hex = kNonceHex;
    auto token = SignReport(in, *key);
    Check(token.ok(), "SignReport");
    Write("jws_fuzz", challenged ? "report-nonce.jws" : "report.jws", *token);
    Write("claims_fuzz", challenged ? "claims-nonce.json" : "claims.json",
          BuildReportClaims(in, *key).dump(2));
  }
  for (int i = 2; i < argc; ++i) {  // real reports' claims, re-signed
    nlohmann::json claims = nlohmann::json::parse(ReadFile(argv[i]));
    ReportInputs in;
    in.issued_at_unix_seconds = kIssuedAt;
    in.submods = claims["submods"];
    in.time = claims["time"];
    in.evidence = *none.Collect(ComputeUserData(thumb, ""));
    auto token = SignReport(in, *key);
    Check(token.ok(), "SignReport");
    const std::string name = std::filesystem::path(argv[i]).stem().string();
    Write("jws_fuzz", name + ".jws", *token);
    Write("claims_fuzz", name + ".json", BuildReportClaims(in, *key).dump(2));
  }

  // A ledger with every kind of line: restarts, checkpoints, untrusted time.
  const std::string ledger_dir = std::filesystem::temp_directory_path() / "resmeter-fuzz-ledger";
  std::filesystem::remove_all(ledger_dir);
  LedgerGeneratorOptions lo;
  lo.dir = ledger_dir;
  lo.usage_statements = 8;
  lo.checkpoint_every = 4;
  lo.restarts = 1;
  lo.untrusted_from = 2;
  lo.untrusted_to = 4;
  lo.start_unix_seconds = kIssuedAt;
  Check(GenerateLedger(lo, key).ok(), "GenerateLedger");
  std::string ledger;
  for (const auto& e : std::filesystem::directory_iterator(ledger_dir)) ledger += ReadFile(e.path());
  Write("ledger_line_fuzz", "ledger.jsonl", ledger);
  std::istringstream lines(ledger);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (n <= 3 || line.find("\"checkpoint\"") != std::string::npos)
      Write("ledger_line_fuzz", "line-" + std::to_string(n), line);
  }
  std::filesystem::remove_all(ledger_dir);

  // TPM 2.0: a quote with user data 0x5a.. (what the target expects), all checks pass.
  Quote q = MakeQuote(std::string(64, '\x5a'));
  Write("tpm2_quote_fuzz", "quote-sha256", QuoteFuzzInput(q, 1 | 4 | 8));
  Write("tpm2_quote_fuzz", "quote-no-user-data", QuoteFuzzInput(q, 1));

  // Identity documents: none and tpm2 evidence bound to the key and the nonce;
  // SNP and TDX evidence from the real reports in tests/data (not bound).
  const std::string bound = ComputeUserData(thumb, nonce);
  nlohmann::json doc = {{"jwk", key->PublicJwk()},
                        {"kid", thumb},
                        {"alg", key->algorithm()},
                        {"iat", static_cast<int64_t>(kIssuedAt)},
                        {"nonce", kNonceHex}};
  doc["evidence"] = *none.Collect(bound);
  Write("identity_fuzz", "identity-none.json", doc.dump(2));
  doc["evidence"] = QuoteEvidence(MakeQuote(bound), bound);
  Write("identity_fuzz", "identity-tpm2.json", doc.dump(2));
  const std::string data = RESMETER_SOURCE_DIR "/tests/data";
  doc["evidence"] = {{"type", "sev-snp"},
                     {"report", Base64Encode(ReadFile(data + "/sev-snp/milan-report.bin"))},
                     {"vcek", Base64Encode(ReadFile(data + "/sev-snp/milan-vcek.der"))}};
  Write("identity_fuzz", "identity-sev-snp.json", doc.dump(2));
  doc["evidence"] = {{"type", "tdx"}, {"quote", Base64Encode(ReadFile(data + "/tdx/quote-v4-spr.dat"))}};
  Write("identity_fuzz", "identity-tdx.json", doc.dump(2));

  // Network protocol: a client's throughput session and a latency hello, as frames.
  const std::string cn(32, 'a');
  std::string session = Frame({{"type", "hello"},
                               {"protocol", 1},
                               {"test", "throughput"},
                               {"client_nonce", cn},
                               {"client_thumbprint", thumb},
                               {"params",
                                {{"streams", 2},
                                 {"duration_seconds", 1.0},
                                 {"omit_seconds", 0.5},
                                 {"buffer_bytes", 131072},
                                 {"socket_buffer_bytes", 0},
                                 {"phases", {"upload", "download"}}}}});
  session += Frame({{"type", "start"}, {"phase", "upload"}});
  session += Frame(
      {{"type", "counts"}, {"phase", "download"}, {"window_seconds", 1.0}, {"stream_bytes", {1000, 2000}}});
  session += Frame({{"type", "signature"}, {"jws", ReadFile(dir + "/corpus/jws_fuzz/report.jws")}});
  session += Frame({{"type", "bye"}});
  Write("net_protocol_fuzz", "throughput-session", session);
  Write("net_protocol_fuzz", "latency-hello",
        Frame({{"type", "hello"},
               {"protocol", 1},
               {"test", "latency"},
               {"client_nonce", cn},
               {"client_thumbprint", thumb},
               {"params", {{"count", 100}, {"message_bytes", 64}, {"interval_seconds", 0.01}}}}));
  Write("net_protocol_fuzz", "error", Frame({{"type", "error"}, {"message", "peer busy"}}));
  std::cout << "corpus key " << thumb << "\n";
  return 0;
}

}  // namespace
}  // namespace resmeter

int main(int argc, char** argv) { return resmeter::Main(argc, argv); }

// The sample issue tracker: schema, generator, a bad upgrade and a day of changes.
// See sample_app.h for what the application holds.
#include "engine/sample_app.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

namespace lifeboat {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Randomness: xoshiro256** seeded through splitmix64. Each part of the application draws from
// its own stream (seed, stream id), so the attachments do not move when the row count does.

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Arguments of one call are evaluated in an unspecified order, so draws that feed the same
// call are taken into locals first: content must not depend on the compiler.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
    for (uint64_t& s : s_) s = SplitMix64(&x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) for n < 2^32.
  uint64_t Uniform(uint64_t n) { return ((Next() >> 32) * n) >> 32; }
  // Uniform in [lo, hi].
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Uniform(hi - lo + 1); }
  bool Percent(int p) { return Uniform(100) < static_cast<uint64_t>(p); }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Uniform(N)];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Stream ids.
constexpr uint64_t kStreamMetadata = 1;
constexpr uint64_t kStreamUsers = 2;
constexpr uint64_t kStreamMedia = 3;
constexpr uint64_t kStreamIssues = 4;
constexpr uint64_t kStreamAttachments = 5;
constexpr uint64_t kStreamLogs = 6;
constexpr uint64_t kStreamChange = 7;

// ---------------------------------------------------------------------------------------------
// Text. Words are drawn from a vocabulary of an issue tracker's prose, with the short function
// words of English drawn more often, so that text compresses roughly like real text.

constexpr std::string_view kFunctionWords =
    "the to and a of in is it for on with that this when we be not from after but as at "
    "are was by or if so can have should will an";

constexpr std::string_view kContentWords =
    "account action active add address admin agent alert allow api app application approve "
    "archive assign attach attachment audit available backend backup balance batch billing "
    "block board branch broken browser budget buffer bug build button cache calendar call "
    "campaign cancel capacity card cart case category certificate change channel chart check "
    "checkout client close cluster code column comment commit company component config "
    "configure connection console contact contract copy cost count credit cron customer "
    "dashboard data database date deadline debug default delay delete delivery deploy design "
    "detail device dialog disable disk display document domain download draft driver duplicate "
    "edit email enable endpoint engine entry environment error escalate estimate event "
    "expected export failed failure feature feed field file filter finance firewall fix flag "
    "flow folder font form format gateway graph group handler header health help history host "
    "icon image import incident index inline input install instance integration invoice issue "
    "item job key label language latency layout lead ledger license limit link list load "
    "locale lock log login logout manager mapping margin memory menu merge message metric "
    "migration mobile mode model module monitor network node notification number offline "
    "onboarding open order owner package page panel parser partner password patch payment "
    "pending performance permission phone pipeline plan platform plugin policy portal "
    "priority process product profile project proxy query queue quota rate record redirect "
    "refund region release reload remote render report request reset resolve response restart "
    "restore result retry review role rollback route rule runtime sandbox save schedule schema "
    "screen script search section secure server service session setting setup shipping "
    "signature size slow snapshot sort source spam spreadsheet staging status step storage "
    "stream subscription summary supplier support sync system table tag task team template "
    "tenant test theme thread ticket timeout timezone token tooltip trace transfer translation "
    "trigger update upgrade upload user validation value vendor version view warning webhook "
    "widget window workflow worker always again already also another because before between "
    "both broken cannot clearly correct current customers different does during each enough "
    "every first following further however immediately instead intermittently last later "
    "least manually maybe missing most much never new next nothing now often only other "
    "please possible previous probably quickly really recent same several since slowly "
    "sometimes still sure then there these those though through today together tomorrow too "
    "twice under unexpected until usually very weekly what where which while without "
    "yesterday appears attempted blocked breaks caused changed confirmed crashes created "
    "deployed disappears displayed ends expected fails fixed freezes happens ignored "
    "increased keeps loaded looks moved needs occurs opened processed reported reproduced "
    "requires returns seems sends shows started stops takes tested tried triggered updated "
    "uses verified works wrote";

std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) words.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

class Vocabulary {
 public:
  static const Vocabulary& Get() {
    static const Vocabulary* vocabulary = new Vocabulary();
    return *vocabulary;
  }

  std::string_view Word(Rng& rng) const {
    const uint64_t r = rng.Next();
    if ((r & 0xff) < 80) return function_[((r >> 8) & 0xffff) * function_.size() >> 16];
    return content_[((r >> 24) & 0xffff) * content_.size() >> 16];
  }
  std::string_view ContentWord(Rng& rng) const { return content_[rng.Uniform(content_.size())]; }

 private:
  Vocabulary() : function_(SplitWords(kFunctionWords)), content_(SplitWords(kContentWords)) {}
  std::vector<std::string_view> function_;
  std::vector<std::string_view> content_;
};

constexpr std::array<std::string_view, 12> kProjectKeys = {
    "SUP", "ONB", "ESC", "WEB", "MOB", "API", "OPS", "SEC", "REL", "FIN", "PRC", "AUD"};

// Appends prose of about `bytes` bytes: sentences with capitals, commas, issue references,
// versions and numbers.
void AppendProse(Rng& rng, size_t bytes, std::string* out) {
  const Vocabulary& vocabulary = Vocabulary::Get();
  const size_t end = out->size() + bytes;
  char number[32];
  while (out->size() < end) {
    const int words = static_cast<int>(rng.Range(5, 18));
    const size_t sentence_start = out->size();
    for (int i = 0; i < words; ++i) {
      if (i > 0) out->push_back(' ');
      const uint64_t r = rng.Uniform(100);
      if (r < 3) {
        out->append(rng.Pick(kProjectKeys));
        out->push_back('-');
        out->append(std::to_string(rng.Range(1, 99999)));
      } else if (r < 5) {
        const int n =
            std::snprintf(number, sizeof number, "%u", static_cast<unsigned>(rng.Uniform(5000)));
        out->append(number, static_cast<size_t>(n));
      } else if (r < 6) {
        const unsigned major = static_cast<unsigned>(rng.Range(20, 23));
        const unsigned minor = static_cast<unsigned>(rng.Range(1, 12));
        const unsigned build = static_cast<unsigned>(rng.Uniform(40));
        const int n = std::snprintf(number, sizeof number, "%u.%u.%04u", major, minor, build);
        out->append(number, static_cast<size_t>(n));
      } else {
        out->append(vocabulary.Word(rng));
      }
      if (i + 1 < words && rng.Uniform(100) < 7) out->push_back(',');
    }
    char& first = (*out)[sentence_start];
    if (first >= 'a' && first <= 'z') first = static_cast<char>(first - 'a' + 'A');
    out->push_back(rng.Uniform(100) < 8 ? '?' : '.');
    if (out->size() < end) out->append(rng.Uniform(100) < 12 ? "\n\n" : " ");
  }
}

// Appends `count` lower-case words separated by spaces.
void AppendWords(Rng& rng, int count, std::string* out) {
  const Vocabulary& vocabulary = Vocabulary::Get();
  for (int i = 0; i < count; ++i) {
    if (i > 0) out->push_back(' ');
    out->append(vocabulary.ContentWord(rng));
  }
}

std::string Title(Rng& rng) {
  std::string title;
  AppendWords(rng, static_cast<int>(rng.Range(4, 10)), &title);
  title[0] = static_cast<char>(title[0] - 'a' + 'A');
  return title;
}

void AppendRandomBytes(Rng& rng, size_t bytes, std::string* out) {
  const size_t start = out->size();
  out->resize(start + bytes);
  char* p = out->data() + start;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    const uint64_t r = rng.Next();
    std::memcpy(p + i, &r, 8);
  }
  if (i < bytes) {
    const uint64_t r = rng.Next();
    std::memcpy(p + i, &r, bytes - i);
  }
}

// ---------------------------------------------------------------------------------------------
// Time. The application's history ends at a fixed instant, so content never depends on the
// clock: 2022-10-14 09:00:00 UTC.

constexpr int64_t kHistoryEnd = 1665738000;
constexpr int64_t kDay = 86400;
constexpr int64_t kHistorySpan = 2 * 365 * kDay;

// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
};

Civil CivilFromSeconds(int64_t seconds) {
  int64_t days = seconds / kDay;
  int64_t rest = seconds % kDay;
  if (rest < 0) {
    rest += kDay;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  c.hour = static_cast<unsigned>(rest / 3600);
  c.minute = static_cast<unsigned>(rest / 60 % 60);
  c.second = static_cast<unsigned>(rest % 60);
  return c;
}

// "2022-10-14 09:00:00" (UTC), as the application stores times. Written by hand: the load
// formats several per row.
struct Timestamp {
  explicit Timestamp(int64_t seconds) {
    const Civil c = CivilFromSeconds(seconds);
    const unsigned year = static_cast<unsigned>(std::clamp<int64_t>(c.year, 0, 9999));
    Put(0, year / 100);
    Put(2, year % 100);
    text[4] = '-';
    Put(5, c.month);
    text[7] = '-';
    Put(8, c.day);
    text[10] = ' ';
    Put(11, c.hour);
    text[13] = ':';
    Put(14, c.minute);
    text[16] = ':';
    Put(17, c.second);
    text[19] = '\0';
  }
  std::string_view view() const { return std::string_view(text, 19); }
  char text[20];

 private:
  void Put(int at, unsigned two_digits) {
    text[at] = static_cast<char>('0' + two_digits / 10);
    text[at + 1] = static_cast<char>('0' + two_digits % 10);
  }
};

bool ParseTimestamp(std::string_view text, int64_t* seconds) {
  int y, mo, d, h, mi, s;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6) {
    return false;
  }
  *seconds = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kDay +
             h * 3600 + mi * 60 + s;
  return true;
}

// ---------------------------------------------------------------------------------------------
// SQLite access.

Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view action) {
  std::string message = "sample app database " + path + ": " + std::string(action) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return AbortedError(std::move(message));
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: return PermissionDeniedError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DataLossError(std::move(message));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN: return UnavailableError(std::move(message));
    default: return InternalError(std::move(message));
  }
}

class Connection;

// A prepared statement. Text and blobs are bound without copying: they must stay alive and
// unchanged until the statement is stepped.
class Statement {
 public:
  Statement(Connection* connection, sqlite3_stmt* stmt, std::string sql)
      : connection_(connection), stmt_(stmt), sql_(std::move(sql)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& Bind(int i, int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  Statement& Bind(int i, uint64_t value) { return Bind(i, static_cast<int64_t>(value)); }
  Statement& Bind(int i, int value) { return Bind(i, static_cast<int64_t>(value)); }
  Statement& Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Bind(int i, const char* text) { return Bind(i, std::string_view(text)); }
  Statement& BindBlob(int i, std::string_view bytes) {
    sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_STATIC);
    return *this;
  }
  Statement& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Runs a statement that returns no rows; resets it for the next use.
  Status Run();
  // Steps once: true with a row, false when done. Call Reset() when finished.
  Result<bool> Step();
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    return text == nullptr ? std::string()
                           : std::string(reinterpret_cast<const char*>(text),
                                         static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }

 private:
  Connection* connection_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

class Connection {
 public:
  ~Connection() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  // Opens an existing database (create = false) or creates a new one.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool create) {
    auto connection = std::unique_ptr<Connection>(new Connection(path));
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    const int rc = sqlite3_open_v2(path.c_str(), &connection->db_, flags, nullptr);
    if (rc != SQLITE_OK) return SqliteError(connection->db_, rc, path, "open");
    sqlite3_extended_result_codes(connection->db_, 1);
    sqlite3_busy_timeout(connection->db_, 5000);
    return connection;
  }

  Status Exec(std::string_view sql, std::string_view action) {
    const std::string copy(sql);
    const int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, action);
    return OkStatus();
  }

  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "prepare \"" + std::string(sql) + "\"");
    return std::make_unique<Statement>(this, stmt, std::string(sql));
  }

  // The first column of the first row of `sql`, as an integer (0 without a row).
  Result<int64_t> QueryInt(std::string_view sql) {
    LB_ASSIGN_OR_RETURN(auto stmt, Prepare(sql));
    LB_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->Int(0) : 0;
  }
  Result<std::string> QueryText(std::string_view sql) {
    LB_ASSIGN_OR_RETURN(auto stmt, Prepare(sql));
    LB_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->Text(0) : std::string();
  }

  Status Error(int rc, std::string_view action) const {
    return SqliteError(db_, rc, path_, action);
  }
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  const std::string& path() const { return path_; }

 private:
  explicit Connection(std::string path) : path_(std::move(path)) {}
  std::string path_;
  sqlite3* db_ = nullptr;
};

Status Statement::Run() {
  const int rc = sqlite3_step(stmt_);
  Status status = rc == SQLITE_DONE || rc == SQLITE_ROW
                      ? OkStatus()
                      : connection_->Error(rc, "run \"" + sql_ + "\"");
  Reset();
  return status;
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = connection_->Error(rc, "run \"" + sql_ + "\"");
  Reset();
  return status;
}

// ---------------------------------------------------------------------------------------------
// Files.

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

Status WriteFile(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return UnavailableError("sample app attachments: create folder " + path.parent_path().string() +
                            ": " + ec.message());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return UnavailableError("sample app attachments: write file " + path.string());
  return OkStatus();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("sample app attachments: read file " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return UnavailableError("sample app attachments: read file " + path.string());
  return bytes;
}

// One attachment: a file of a kind typical for a tracker, with deterministic bytes.
struct AttachmentFile {
  std::string file_name;
  std::string mime;
  std::string bytes;
};

constexpr uint64_t kLargeAttachmentBytes = 1ull << 20;

AttachmentFile MakeAttachment(Rng& rng, int kind, int number) {
  AttachmentFile file;
  char name[64];
  switch (kind) {
    case 0: {  // a screenshot: incompressible, like a real PNG
      std::snprintf(name, sizeof name, "screenshot-%d.png", number);
      file.mime = "image/png";
      file.bytes.assign("\x89PNG\r\n\x1a\n", 8);
      AppendRandomBytes(rng, rng.Range(8, 160) << 10, &file.bytes);
      break;
    }
    case 1: {  // a server log excerpt
      std::snprintf(name, sizeof name, "server-%d.log", number);
      file.mime = "text/plain";
      const size_t size = rng.Range(4, 64) << 10;
      while (file.bytes.size() < size) {
        file.bytes.append(
            Timestamp(kHistoryEnd - static_cast<int64_t>(rng.Uniform(kHistorySpan))).view());
        file.bytes.append(rng.Percent(85) ? " INFO  " : " ERROR ");
        AppendProse(rng, rng.Range(40, 160), &file.bytes);
        file.bytes.push_back('\n');
      }
      break;
    }
    case 2: {  // a spreadsheet export
      std::snprintf(name, sizeof name, "export-%d.csv", number);
      file.mime = "text/csv";
      file.bytes = "id,key,title,status,amount\n";
      const size_t size = rng.Range(2, 48) << 10;
      for (int row = 1; file.bytes.size() < size; ++row) {
        char line[64];
        const std::string key(rng.Pick(kProjectKeys));
        const unsigned issue = static_cast<unsigned>(rng.Range(1, 9999));
        const int n = std::snprintf(line, sizeof line, "%d,%s-%u,", row, key.c_str(), issue);
        file.bytes.append(line, static_cast<size_t>(n));
        AppendWords(rng, static_cast<int>(rng.Range(3, 7)), &file.bytes);
        const char* status = rng.Percent(60) ? "Closed" : "Open";
        const unsigned units = static_cast<unsigned>(rng.Uniform(10000));
        const unsigned cents = static_cast<unsigned>(rng.Uniform(100));
        const int m = std::snprintf(line, sizeof line, ",%s,%u.%02u\n", status, units, cents);
        file.bytes.append(line, static_cast<size_t>(m));
      }
      break;
    }
    default: {  // a document
      std::snprintf(name, sizeof name, "specification-%d.pdf", number);
      file.mime = "application/pdf";
      file.bytes = "%PDF-1.7\n";
      AppendRandomBytes(rng, rng.Range(16, 320) << 10, &file.bytes);
      break;
    }
  }
  file.file_name = name;
  return file;
}

AttachmentFile MakeLargeAttachment(Rng& rng) {
  AttachmentFile file;
  file.file_name = "capture-logs.zip";
  file.mime = "application/zip";
  file.bytes.assign("PK\x03\x04", 4);
  AppendRandomBytes(rng, kLargeAttachmentBytes + rng.Uniform(64 << 10), &file.bytes);
  return file;
}

// "2022/07/SUP-1234/screenshot-3.png": by upload month, then issue.
std::string AttachmentPath(int64_t uploaded_at, std::string_view issue_key,
                           std::string_view file_name) {
  const Civil c = CivilFromSeconds(uploaded_at);
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%04d/%02u/", static_cast<int>(c.year), c.month);
  return std::string(prefix) + std::string(issue_key) + "/" + std::string(file_name);
}

// Writes `file` under the attachments folder and inserts its trk_attachments row with
// `insert` (issue_id, path, file_name, mime, size, sha256, uploaded_by, uploaded_at).
Status StoreAttachment(const fs::path& attachments_dir, Statement* insert, int64_t issue_id,
                       std::string_view issue_key, int64_t user, int64_t uploaded_at,
                       const AttachmentFile& file) {
  const std::string path = AttachmentPath(uploaded_at, issue_key, file.file_name);
  LB_RETURN_IF_ERROR(WriteFile(attachments_dir / path, file.bytes));
  const std::string sha = Sha256Hex(file.bytes);
  const Timestamp uploaded(uploaded_at);
  return insert->Bind(1, issue_id)
      .Bind(2, std::string_view(path))
      .Bind(3, std::string_view(file.file_name))
      .Bind(4, std::string_view(file.mime))
      .Bind(5, static_cast<uint64_t>(file.bytes.size()))
      .Bind(6, std::string_view(sha))
      .Bind(7, user)
      .Bind(8, uploaded.view())
      .Run();
}

// ---------------------------------------------------------------------------------------------
// Schema.

constexpr std::string_view kSchema = R"sql(
CREATE TABLE trk_app_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE trk_business_areas (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  sort_order INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE trk_projects (
  id INTEGER PRIMARY KEY,
  business_area_id INTEGER NOT NULL REFERENCES trk_business_areas(id),
  key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  workflow TEXT NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE trk_fields (
  id INTEGER PRIMARY KEY,
  project_id INTEGER REFERENCES trk_projects(id),
  name TEXT NOT NULL,
  label TEXT NOT NULL,
  type TEXT NOT NULL,
  required INTEGER NOT NULL DEFAULT 0,
  options TEXT,
  sort_order INTEGER NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE trk_layouts (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES trk_projects(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('edit', 'view', 'list')),
  definition TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at TEXT NOT NULL
);
CREATE TABLE trk_rules (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES trk_projects(id),
  name TEXT NOT NULL,
  event TEXT NOT NULL,
  condition TEXT NOT NULL,
  action TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  priority INTEGER NOT NULL
);
CREATE TABLE trk_reports (
  id INTEGER PRIMARY KEY,
  business_area_id INTEGER REFERENCES trk_business_areas(id),
  project_id INTEGER REFERENCES trk_projects(id),
  name TEXT NOT NULL,
  query TEXT NOT NULL,
  columns TEXT NOT NULL,
  chart TEXT,
  schedule TEXT
);
CREATE TABLE trk_users (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL
);
CREATE TABLE trk_issues (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES trk_projects(id),
  issue_key TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  priority TEXT NOT NULL,
  reporter_id INTEGER NOT NULL REFERENCES trk_users(id),
  assignee_id INTEGER REFERENCES trk_users(id),
  custom_fields TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  resolved_at TEXT
);
CREATE TABLE trk_comments (
  id INTEGER PRIMARY KEY,
  issue_id INTEGER NOT NULL REFERENCES trk_issues(id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL REFERENCES trk_users(id),
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  edited_at TEXT
);
CREATE TABLE trk_history (
  id INTEGER PRIMARY KEY,
  issue_id INTEGER NOT NULL REFERENCES trk_issues(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES trk_users(id),
  field TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  changed_at TEXT NOT NULL
);
CREATE TABLE trk_attachments (
  id INTEGER PRIMARY KEY,
  issue_id INTEGER NOT NULL REFERENCES trk_issues(id) ON DELETE CASCADE,
  path TEXT NOT NULL UNIQUE,
  file_name TEXT NOT NULL,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  uploaded_by INTEGER NOT NULL REFERENCES trk_users(id),
  uploaded_at TEXT NOT NULL
);
CREATE TABLE trk_media (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  content BLOB NOT NULL,
  uploaded_at TEXT NOT NULL
);
CREATE TABLE trk_log (
  id INTEGER PRIMARY KEY,
  logged_at TEXT NOT NULL,
  level TEXT NOT NULL,
  logger TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE TABLE trk_log_api (
  id INTEGER PRIMARY KEY,
  logged_at_ms INTEGER NOT NULL,
  method TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  status INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  user_id INTEGER,
  client_ip TEXT NOT NULL,
  request_bytes INTEGER NOT NULL,
  response_bytes INTEGER NOT NULL
);
CREATE TABLE trk_debug_trace (
  id INTEGER PRIMARY KEY,
  traced_at_us INTEGER NOT NULL,
  session TEXT NOT NULL,
  span TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE TABLE trk_search_cache (
  issue_id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  terms TEXT NOT NULL,
  refreshed_at TEXT NOT NULL
);
CREATE TRIGGER trk_issues_search_insert AFTER INSERT ON trk_issues BEGIN
  INSERT OR REPLACE INTO trk_search_cache (issue_id, project_id, status, terms, refreshed_at)
  VALUES (new.id, new.project_id, new.status,
          lower(new.title || ' ' || substr(new.description, 1, 200)), new.updated_at);
END;
CREATE TRIGGER trk_issues_search_update AFTER UPDATE OF title, description, status
ON trk_issues BEGIN
  INSERT OR REPLACE INTO trk_search_cache (issue_id, project_id, status, terms, refreshed_at)
  VALUES (new.id, new.project_id, new.status,
          lower(new.title || ' ' || substr(new.description, 1, 200)), new.updated_at);
END;
CREATE TRIGGER trk_issues_search_delete AFTER DELETE ON trk_issues BEGIN
  DELETE FROM trk_search_cache WHERE issue_id = old.id;
END;
)sql";

// Built after the bulk load, which is faster than keeping them up to date row by row.
constexpr std::string_view kIndexes = R"sql(
CREATE UNIQUE INDEX trk_issues_key ON trk_issues (issue_key);
CREATE INDEX trk_issues_project_status ON trk_issues (project_id, status);
CREATE INDEX trk_comments_issue ON trk_comments (issue_id);
CREATE INDEX trk_history_issue ON trk_history (issue_id);
CREATE INDEX trk_attachments_issue ON trk_attachments (issue_id);
)sql";

// ---------------------------------------------------------------------------------------------
// Vocabulary of the data.

constexpr std::array<std::string_view, 4> kAreaNames = {"Customer Support", "Engineering",
                                                        "Operations", "Finance"};
constexpr std::array<std::string_view, 12> kProjectNames = {
    "Support Desk",       "Onboarding", "Escalations",    "Web Platform",
    "Mobile Apps",        "Public API", "Infrastructure", "Security",
    "Release Management", "Billing",    "Procurement",    "Audit"};
constexpr std::array<std::string_view, 3> kWorkflows = {"service-desk", "kanban", "standard"};
constexpr std::array<std::string_view, 6> kStatuses = {"Open",     "In Progress", "In Review",
                                                       "Resolved", "Closed",      "Reopened"};
constexpr std::array<std::string_view, 4> kPriorities = {"Critical", "High", "Medium", "Low"};
constexpr std::array<std::string_view, 24> kFirstNames = {
    "Maria", "Jonas",  "Aisha",  "Lars",  "Chen", "Sofia", "Omar",  "Ingrid",
    "Pedro", "Yuki",   "Fatima", "Erik",  "Nora", "Ravi",  "Elena", "Tomas",
    "Amara", "Henrik", "Lucia",  "Kenji", "Sara", "Marco", "Leila", "Anders"};
constexpr std::array<std::string_view, 24> kLastNames = {
    "Hansen", "Okafor",   "Lindqvist", "Garcia", "Nakamura", "Berg",    "Haddad",  "Novak",
    "Silva",  "Johansen", "Kowalski",  "Rossi",  "Andersen", "Mehta",   "Fischer", "Moreau",
    "Dubois", "Larsen",   "Costa",     "Yilmaz", "Olsen",    "Schmidt", "Nilsen",  "Petrov"};
constexpr std::array<std::string_view, 5> kRoles = {"agent", "developer", "reporter", "agent",
                                                    "viewer"};
constexpr std::array<std::string_view, 6> kHistoryFields = {"status",    "priority", "assignee",
                                                            "component", "due_date", "title"};
constexpr std::array<std::string_view, 4> kLogLevels = {"INFO", "INFO", "DEBUG", "WARN"};
constexpr std::array<std::string_view, 6> kLoggers = {"tracker.web.request", "tracker.mail",
                                                      "tracker.rules",       "tracker.scheduler",
                                                      "tracker.auth",        "tracker.search"};
constexpr std::array<std::string_view, 6> kEndpoints = {
    "/api/v2/issues", "/api/v2/issues/{id}", "/api/v2/issues/{id}/comments",
    "/api/v2/search", "/api/v2/users/me",    "/api/v2/reports/{id}/run"};
constexpr std::array<std::string_view, 5> kSpans = {
    "rules.evaluate", "search.reindex", "mail.render", "layout.resolve", "auth.session"};

[[gnu::format(printf, 2, 3)]] std::string_view Format(std::string* buffer, const char* format, ...);

std::string_view Format(std::string* buffer, const char* format, ...) {
  va_list args;
  va_start(args, format);
  char local[512];
  const int n = std::vsnprintf(local, sizeof local, format, args);
  va_end(args);
  buffer->assign(local, static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof local) - 1)));
  return *buffer;
}

std::string ToStr(std::string_view view) {
  return std::string(view);
}

// ---------------------------------------------------------------------------------------------
// Log writer: the rows the application appends to trk_log, trk_log_api and trk_debug_trace
// while it runs.

class LogWriter {
 public:
  static Result<std::unique_ptr<LogWriter>> Create(Connection* db, uint64_t users) {
    auto writer = std::unique_ptr<LogWriter>(new LogWriter(users));
    LB_ASSIGN_OR_RETURN(writer->log_, db->Prepare("INSERT INTO trk_log (logged_at, level, logger, "
                                                  "message) VALUES (?, ?, ?, ?)"));
    LB_ASSIGN_OR_RETURN(writer->api_,
                        db->Prepare("INSERT INTO trk_log_api (logged_at_ms, method, endpoint, "
                                    "status, duration_ms, user_id, client_ip, request_bytes, "
                                    "response_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    LB_ASSIGN_OR_RETURN(writer->trace_, db->Prepare("INSERT INTO trk_debug_trace (traced_at_us, "
                                                    "session, span, payload) VALUES (?, ?, ?, ?)"));
    return writer;
  }

  // Appends one application log line about `subject` at time `at`.
  Status Log(Rng& rng, int64_t at, std::string_view subject) {
    const Timestamp ts(at);
    text_.clear();
    text_.append(subject);
    text_.append(": ");
    AppendProse(rng, rng.Range(40, 140), &text_);
    log_->Bind(1, ts.view()).Bind(2, rng.Pick(kLogLevels)).Bind(3, rng.Pick(kLoggers));
    log_->Bind(4, std::string_view(text_));
    LB_RETURN_IF_ERROR(log_->Run());
    ++rows_;
    return OkStatus();
  }

  Status Api(Rng& rng, int64_t at) {
    static constexpr std::array<std::string_view, 4> kMethods = {"GET", "GET", "POST", "PUT"};
    static constexpr std::array<int, 6> kCodes = {200, 200, 200, 201, 404, 500};
    std::string endpoint(rng.Pick(kEndpoints));
    const size_t brace = endpoint.find("{id}");
    if (brace != std::string::npos) endpoint.replace(brace, 4, std::to_string(rng.Range(1, 99999)));
    char ip[32];
    const unsigned subnet = static_cast<unsigned>(rng.Uniform(16));
    const unsigned net = static_cast<unsigned>(rng.Uniform(256));
    const unsigned host = static_cast<unsigned>(rng.Range(1, 254));
    std::snprintf(ip, sizeof ip, "10.%u.%u.%u", subnet, net, host);
    api_->Bind(1, at * 1000 + static_cast<int64_t>(rng.Uniform(1000)))
        .Bind(2, rng.Pick(kMethods))
        .Bind(3, std::string_view(endpoint))
        .Bind(4, rng.Pick(kCodes))
        .Bind(5, static_cast<int64_t>(rng.Range(2, 900)));
    if (rng.Percent(90)) {
      api_->Bind(6, rng.Range(1, users_));
    } else {
      api_->BindNull(6);
    }
    api_->Bind(7, std::string_view(ip)).Bind(8, rng.Uniform(4096)).Bind(9, rng.Range(200, 60000));
    LB_RETURN_IF_ERROR(api_->Run());
    ++rows_;
    return OkStatus();
  }

  Status Trace(Rng& rng, int64_t at) {
    char session[24];
    std::snprintf(session, sizeof session, "%016llx", static_cast<unsigned long long>(rng.Next()));
    text_.clear();
    const unsigned issue = static_cast<unsigned>(rng.Range(1, 99999));
    const unsigned rule = static_cast<unsigned>(rng.Range(1, 48));
    const unsigned elapsed = static_cast<unsigned>(rng.Uniform(50000));
    Format(&scratch_, "{\"issue\":%u,\"rule\":%u,\"elapsed_us\":%u,\"note\":\"", issue, rule,
           elapsed);
    text_.append(scratch_);
    AppendProse(rng, rng.Range(150, 600), &text_);
    text_.append("\"}");
    trace_->Bind(1, at * 1000000 + static_cast<int64_t>(rng.Uniform(1000000)))
        .Bind(2, std::string_view(session, 16))
        .Bind(3, rng.Pick(kSpans))
        .Bind(4, std::string_view(text_));
    LB_RETURN_IF_ERROR(trace_->Run());
    ++rows_;
    return OkStatus();
  }

  uint64_t rows() const { return rows_; }

 private:
  explicit LogWriter(uint64_t users) : users_(std::max<uint64_t>(users, 1)) {}
  uint64_t users_;
  uint64_t rows_ = 0;
  std::string text_;
  std::string scratch_;
  std::unique_ptr<Statement> log_;
  std::unique_ptr<Statement> api_;
  std::unique_ptr<Statement> trace_;
};

// ---------------------------------------------------------------------------------------------
// Issue writer: issues with their comments and history, as the application stores them.

struct IssueDraft {
  int project = 0;  // index into kProjectKeys
  uint64_t number = 0;
  int64_t created_at = 0;
  std::string_view status;
  uint64_t reporter = 1;
};

class IssueWriter {
 public:
  static Result<std::unique_ptr<IssueWriter>> Create(Connection* db, uint64_t users) {
    auto writer = std::unique_ptr<IssueWriter>(new IssueWriter(users));
    LB_ASSIGN_OR_RETURN(
        writer->issue_,
        db->Prepare("INSERT INTO trk_issues (project_id, issue_key, title, description, status, "
                    "priority, reporter_id, assignee_id, custom_fields, created_at, updated_at, "
                    "resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    LB_ASSIGN_OR_RETURN(writer->comment_,
                        db->Prepare("INSERT INTO trk_comments (issue_id, author_id, body, "
                                    "created_at, edited_at) VALUES (?, ?, ?, ?, ?)"));
    LB_ASSIGN_OR_RETURN(writer->history_,
                        db->Prepare("INSERT INTO trk_history (issue_id, user_id, field, "
                                    "old_value, new_value, changed_at) VALUES (?, ?, ?, ?, ?, ?)"));
    writer->db_ = db;
    return writer;
  }

  // Inserts an issue; returns its id.
  Result<int64_t> Issue(Rng& rng, const IssueDraft& draft, int64_t updated_at,
                        size_t description_bytes) {
    char key[32];
    const int key_length =
        std::snprintf(key, sizeof key, "%s-%llu", ToStr(kProjectKeys[draft.project]).c_str(),
                      static_cast<unsigned long long>(draft.number));
    const std::string title = Title(rng);
    text_.clear();
    AppendProse(rng, description_bytes, &text_);
    static constexpr std::array<int, 6> kStoryPoints = {1, 2, 3, 5, 8, 13};
    const unsigned severity = static_cast<unsigned>(rng.Range(1, 4));
    const std::string component(Vocabulary::Get().ContentWord(rng));
    const unsigned minor = static_cast<unsigned>(rng.Range(1, 10));
    const unsigned build = static_cast<unsigned>(rng.Uniform(40));
    const int points = rng.Pick(kStoryPoints);
    const char* environment = rng.Percent(70) ? "Production" : "Staging";
    Format(&scratch_,
           "{\"severity\":\"S%u\",\"component\":\"%s\",\"found_in\":\"22.%u.%04u\","
           "\"story_points\":%d,\"environment\":\"%s\"}",
           severity, component.c_str(), minor, build, points, environment);
    const Timestamp created(draft.created_at), updated(updated_at);
    const uint64_t priority = rng.Uniform(100);
    issue_->Bind(1, draft.project + 1)
        .Bind(2, std::string_view(key, static_cast<size_t>(key_length)))
        .Bind(3, std::string_view(title))
        .Bind(4, std::string_view(text_))
        .Bind(5, draft.status)
        .Bind(6, kPriorities[priority < 5    ? 0
                             : priority < 25 ? 1
                             : priority < 75 ? 2
                                             : 3])
        .Bind(7, draft.reporter);
    if (rng.Percent(90)) {
      issue_->Bind(8, rng.Range(1, users_));
    } else {
      issue_->BindNull(8);
    }
    issue_->Bind(9, std::string_view(scratch_)).Bind(10, created.view()).Bind(11, updated.view());
    if (draft.status == "Resolved" || draft.status == "Closed") {
      issue_->Bind(12, updated.view());
    } else {
      issue_->BindNull(12);
    }
    LB_RETURN_IF_ERROR(issue_->Run());
    ++issues_;
    return db_->LastInsertId();
  }

  Status Comment(Rng& rng, int64_t issue_id, int64_t at, size_t body_bytes, bool edited) {
    text_.clear();
    AppendProse(rng, body_bytes, &text_);
    const Timestamp created(at), edited_at(at + static_cast<int64_t>(rng.Range(60, 7200)));
    comment_->Bind(1, issue_id)
        .Bind(2, rng.Range(1, users_))
        .Bind(3, std::string_view(text_))
        .Bind(4, created.view());
    if (edited) {
      comment_->Bind(5, edited_at.view());
    } else {
      comment_->BindNull(5);
    }
    LB_RETURN_IF_ERROR(comment_->Run());
    ++comments_;
    return OkStatus();
  }

  Status History(int64_t issue_id, uint64_t user, std::string_view field,
                 std::string_view old_value, std::string_view new_value, int64_t at) {
    const Timestamp ts(at);
    history_->Bind(1, issue_id).Bind(2, user).Bind(3, field);
    if (old_value.empty()) {
      history_->BindNull(4);
    } else {
      history_->Bind(4, old_value);
    }
    history_->Bind(5, new_value).Bind(6, ts.view());
    LB_RETURN_IF_ERROR(history_->Run());
    ++history_rows_;
    return OkStatus();
  }

  // A plausible history entry for `field`.
  Status RandomHistory(Rng& rng, int64_t issue_id, int64_t at) {
    const std::string_view field = rng.Pick(kHistoryFields);
    std::string old_value, new_value;
    if (field == "status") {
      const uint64_t i = rng.Uniform(kStatuses.size() - 1);
      old_value = kStatuses[i];
      new_value = kStatuses[i + 1];
    } else if (field == "priority") {
      old_value = rng.Pick(kPriorities);
      new_value = rng.Pick(kPriorities);
    } else if (field == "assignee") {
      old_value = std::to_string(rng.Range(1, users_));
      new_value = std::to_string(rng.Range(1, users_));
    } else if (field == "due_date") {
      new_value = std::string(
          Timestamp(at + static_cast<int64_t>(rng.Range(1, 30)) * kDay).view().substr(0, 10));
    } else if (field == "title") {
      old_value = Title(rng);
      new_value = Title(rng);
    } else {
      old_value = Vocabulary::Get().ContentWord(rng);
      new_value = Vocabulary::Get().ContentWord(rng);
    }
    return History(issue_id, rng.Range(1, users_), field, old_value, new_value, at);
  }

  uint64_t issues() const { return issues_; }
  uint64_t comments() const { return comments_; }
  uint64_t history_rows() const { return history_rows_; }
  uint64_t users() const { return users_; }

 private:
  explicit IssueWriter(uint64_t users) : users_(std::max<uint64_t>(users, 1)) {}
  Connection* db_ = nullptr;
  uint64_t users_;
  uint64_t issues_ = 0, comments_ = 0, history_rows_ = 0;
  std::string text_;
  std::string scratch_;
  std::unique_ptr<Statement> issue_;
  std::unique_ptr<Statement> comment_;
  std::unique_ptr<Statement> history_;
};

// ---------------------------------------------------------------------------------------------
// Configuration: settings and the metadata tables. Small and of fixed size, as in a real
// installation.

Status WriteMetadata(Connection* db, Rng& rng, const std::string& version) {
  const int64_t configured_at = kHistoryEnd - kHistorySpan - 30 * kDay;
  const Timestamp configured(configured_at);
  std::string text;
  {
    LB_ASSIGN_OR_RETURN(auto stmt,
                        db->Prepare("INSERT INTO trk_app_settings (key, value) VALUES (?, ?)"));
    const std::array<std::pair<std::string_view, std::string_view>, 10> settings = {{
        {"schema_version", version},
        {"instance_name", "Acme Tracker"},
        {"base_url", "https://tracker.acme.example"},
        {"default_locale", "en_US"},
        {"time_zone", "Europe/Oslo"},
        {"mail_from", "tracker@acme.example"},
        {"attachments_max_bytes", "26214400"},
        {"session_timeout_minutes", "60"},
        {"theme", "classic"},
        {"search_reindex_cron", "15 3 * * *"},
    }};
    for (const auto& [key, value] : settings) {
      LB_RETURN_IF_ERROR(stmt->Bind(1, key).Bind(2, value).Run());
    }
  }
  {
    LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_business_areas (id, name, "
                                               "description, sort_order, created_at) VALUES "
                                               "(?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < kAreaNames.size(); ++i) {
      text.clear();
      AppendProse(rng, rng.Range(60, 200), &text);
      LB_RETURN_IF_ERROR(stmt->Bind(1, static_cast<int64_t>(i + 1))
                             .Bind(2, kAreaNames[i])
                             .Bind(3, std::string_view(text))
                             .Bind(4, static_cast<int64_t>((i + 1) * 10))
                             .Bind(5, configured.view())
                             .Run());
    }
  }
  {
    LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_projects (id, business_area_id, "
                                               "key, name, description, workflow, archived, "
                                               "created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)"));
    for (size_t i = 0; i < kProjectKeys.size(); ++i) {
      text.clear();
      AppendProse(rng, rng.Range(80, 300), &text);
      LB_RETURN_IF_ERROR(stmt->Bind(1, static_cast<int64_t>(i + 1))
                             .Bind(2, static_cast<int64_t>(i / 3 + 1))
                             .Bind(3, kProjectKeys[i])
                             .Bind(4, kProjectNames[i])
                             .Bind(5, std::string_view(text))
                             .Bind(6, kWorkflows[i % kWorkflows.size()])
                             .Bind(7, configured.view())
                             .Run());
    }
  }
  {
    LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_fields (project_id, name, label, "
                                               "type, required, options, sort_order) VALUES "
                                               "(?, ?, ?, ?, ?, ?, ?)"));
    struct FieldSpec {
      std::string_view name, label, type, options;
      bool required;
    };
    static constexpr std::array<FieldSpec, 6> kGlobal = {{
        {"severity", "Severity", "select", "S1|S2|S3|S4", true},
        {"component", "Component", "select", "", false},
        {"found_in", "Found in version", "text", "", false},
        {"story_points", "Story points", "number", "1|2|3|5|8|13", false},
        {"environment", "Environment", "select", "Production|Staging|Development", true},
        {"due_date", "Due date", "date", "", false},
    }};
    int order = 10;
    for (const FieldSpec& field : kGlobal) {
      std::string options(field.options);
      if (field.name == "component") {
        AppendWords(rng, 8, &options);
        std::replace(options.begin(), options.end(), ' ', '|');
      }
      stmt->BindNull(1).Bind(2, field.name).Bind(3, field.label).Bind(4, field.type);
      stmt->Bind(5, field.required ? 1 : 0);
      if (options.empty()) {
        stmt->BindNull(6);
      } else {
        stmt->Bind(6, std::string_view(options));
      }
      LB_RETURN_IF_ERROR(stmt->Bind(7, order).Run());
      order += 10;
    }
    for (size_t p = 0; p < kProjectKeys.size(); ++p) {
      std::string categories;
      AppendWords(rng, 5, &categories);
      std::replace(categories.begin(), categories.end(), ' ', '|');
      const int64_t project = static_cast<int64_t>(p + 1);
      LB_RETURN_IF_ERROR(stmt->Bind(1, project)
                             .Bind(2, "category")
                             .Bind(3, "Category")
                             .Bind(4, "select")
                             .Bind(5, 1)
                             .Bind(6, std::string_view(categories))
                             .Bind(7, 100)
                             .Run());
      LB_RETURN_IF_ERROR(stmt->Bind(1, project)
                             .Bind(2, "sla_hours")
                             .Bind(3, "SLA (hours)")
                             .Bind(4, "number")
                             .Bind(5, 0)
                             .Bind(6, "4|8|24|72")
                             .Bind(7, 110)
                             .Run());
      LB_RETURN_IF_ERROR(stmt->Bind(1, project)
                             .Bind(2, "customer")
                             .Bind(3, "Customer")
                             .Bind(4, "text")
                             .Bind(5, 0)
                             .BindNull(6)
                             .Bind(7, 120)
                             .Run());
    }
  }
  {
    LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_layouts (project_id, name, kind, "
                                               "definition, version, updated_at) VALUES "
                                               "(?, ?, ?, ?, ?, ?)"));
    for (size_t p = 0; p < kProjectKeys.size(); ++p) {
      const std::string key(kProjectKeys[p]);
      const std::string name(kProjectNames[p]);
      const int64_t project = static_cast<int64_t>(p + 1);
      const std::string edit =
          "{\"layout\":\"edit\",\"project\":\"" + key +
          "\",\"columns\":2,\"sections\":["
          "{\"title\":\"Summary\",\"fields\":[\"title\",\"status\",\"priority\",\"assignee_id\"]},"
          "{\"title\":\"Details\",\"fields\":[\"description\",\"severity\",\"component\","
          "\"category\",\"customer\"]},"
          "{\"title\":\"Tracking\",\"fields\":[\"due_date\",\"sla_hours\",\"environment\","
          "\"found_in\",\"story_points\"]}],"
          "\"readonly\":[\"issue_key\",\"created_at\",\"updated_at\"],"
          "\"required\":[\"title\",\"severity\",\"environment\",\"category\"]}";
      const std::string view = "{\"layout\":\"view\",\"project\":\"" + key +
                               "\",\"header\":[\"issue_key\",\"title\",\"status\"],"
                               "\"tabs\":[{\"title\":\"Comments\",\"source\":\"trk_comments\"},"
                               "{\"title\":\"History\",\"source\":\"trk_history\"},"
                               "{\"title\":\"Files\",\"source\":\"trk_attachments\"}]}";
      const std::string list =
          "{\"layout\":\"list\",\"project\":\"" + key +
          "\",\"columns\":[\"issue_key\",\"title\",\"status\",\"priority\",\"assignee_id\","
          "\"updated_at\"],\"sort\":[{\"field\":\"updated_at\",\"desc\":true}],\"page_size\":50}";
      const std::array<std::pair<std::string_view, const std::string*>, 3> layouts = {
          {{"edit", &edit}, {"view", &view}, {"list", &list}}};
      for (const auto& [kind, definition] : layouts) {
        const std::string title = name + " " + std::string(kind);
        LB_RETURN_IF_ERROR(stmt->Bind(1, project)
                               .Bind(2, std::string_view(title))
                               .Bind(3, kind)
                               .Bind(4, std::string_view(*definition))
                               .Bind(5, static_cast<int64_t>(rng.Range(1, 9)))
                               .Bind(6, configured.view())
                               .Run());
      }
    }
  }
  {
    LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_rules (project_id, name, event, "
                                               "condition, action, enabled, priority) VALUES "
                                               "(?, ?, ?, ?, ?, ?, ?)"));
    struct RuleSpec {
      std::string_view name, event, condition, action;
    };
    static constexpr std::array<RuleSpec, 4> kRules = {{
        {"Assign critical issues to on-call", "issue.created", "priority = 'Critical'",
         "assign:role=oncall;notify:channel=urgent"},
        {"Close resolved issues after 14 days", "schedule.daily",
         "status = 'Resolved' AND updated_at < now() - interval '14 days'", "set:status=Closed"},
        {"Notify reporter on new comment", "comment.created", "author_id <> reporter_id",
         "notify:user=reporter_id;template=comment_added"},
        {"Escalate overdue issues", "schedule.hourly",
         "due_date < now() AND status NOT IN ('Resolved', 'Closed')",
         "set:priority=High;notify:role=lead"},
    }};
    for (size_t p = 0; p < kProjectKeys.size(); ++p) {
      int priority = 10;
      for (const RuleSpec& rule : kRules) {
        LB_RETURN_IF_ERROR(stmt->Bind(1, static_cast<int64_t>(p + 1))
                               .Bind(2, rule.name)
                               .Bind(3, rule.event)
                               .Bind(4, rule.condition)
                               .Bind(5, rule.action)
                               .Bind(6, rng.Percent(90) ? 1 : 0)
                               .Bind(7, priority)
                               .Run());
        priority += 10;
      }
    }
  }
  {
    LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_reports (business_area_id, "
                                               "project_id, name, query, columns, chart, "
                                               "schedule) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    for (size_t a = 0; a < kAreaNames.size(); ++a) {
      const std::string name = std::string(kAreaNames[a]) + ": open issues by project";
      const std::string query =
          "SELECT p.key, count(*) FROM trk_issues i JOIN trk_projects p ON p.id = i.project_id "
          "WHERE p.business_area_id = " +
          std::to_string(a + 1) +
          " AND i.status NOT IN ('Resolved', 'Closed') GROUP BY p.key ORDER BY 2 DESC";
      LB_RETURN_IF_ERROR(stmt->Bind(1, static_cast<int64_t>(a + 1))
                             .BindNull(2)
                             .Bind(3, std::string_view(name))
                             .Bind(4, std::string_view(query))
                             .Bind(5, "project,open")
                             .Bind(6, "bar")
                             .Bind(7, "weekly:mon 08:00")
                             .Run());
    }
    for (size_t p = 0; p < kProjectKeys.size(); ++p) {
      const std::string id = std::to_string(p + 1);
      const std::string by_priority = std::string(kProjectKeys[p]) + ": open by priority";
      const std::string by_priority_query =
          "SELECT priority, count(*) FROM trk_issues WHERE project_id = " + id +
          " AND status NOT IN ('Resolved', 'Closed') GROUP BY priority";
      LB_RETURN_IF_ERROR(stmt->BindNull(1)
                             .Bind(2, static_cast<int64_t>(p + 1))
                             .Bind(3, std::string_view(by_priority))
                             .Bind(4, std::string_view(by_priority_query))
                             .Bind(5, "priority,count")
                             .Bind(6, "pie")
                             .BindNull(7)
                             .Run());
      const std::string resolution = std::string(kProjectKeys[p]) + ": resolution time";
      const std::string resolution_query =
          "SELECT strftime('%Y-%m', resolved_at), avg(julianday(resolved_at) - "
          "julianday(created_at)) FROM trk_issues WHERE project_id = " +
          id + " AND resolved_at IS NOT NULL GROUP BY 1 ORDER BY 1";
      LB_RETURN_IF_ERROR(stmt->BindNull(1)
                             .Bind(2, static_cast<int64_t>(p + 1))
                             .Bind(3, std::string_view(resolution))
                             .Bind(4, std::string_view(resolution_query))
                             .Bind(5, "month,days")
                             .Bind(6, "line")
                             .Bind(7, "monthly:1 07:00")
                             .Run());
    }
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// The generator.

// Sizing. Bytes per issue (with its comments, history and search-cache row) only spreads
// creation times and sizes the user table: the load itself stops on the file's real size.
constexpr uint64_t kEstimatedMetadataBytes = 256 << 10;
constexpr uint64_t kEstimatedBytesPerIssue = 4150;
constexpr uint64_t kEstimatedBytesPerLogTick = 1250;
constexpr double kDataShare = 0.80;  // of what media and metadata leave; logs take the rest
constexpr double kMediaShare = 0.05;
constexpr uint64_t kMinIssues = 24;
constexpr uint64_t kMinLogTicks = 64;
constexpr int kAttachmentFiles = 40;
constexpr int kLargeAttachmentIndex = 7;
constexpr int64_t kLogSpan = 30 * kDay;

std::string_view IssueStatus(Rng& rng, bool recent) {
  const uint64_t r = rng.Uniform(100);
  if (!recent) {
    return r < 80   ? "Closed"
           : r < 88 ? "Resolved"
           : r < 93 ? "Open"
           : r < 96 ? "In Progress"
           : r < 98 ? "Reopened"
                    : "In Review";
  }
  return r < 30   ? "Open"
         : r < 55 ? "In Progress"
         : r < 65 ? "In Review"
         : r < 75 ? "Resolved"
         : r < 95 ? "Closed"
                  : "Reopened";
}

size_t DescriptionBytes(Rng& rng) {
  return rng.Percent(70) ? rng.Range(200, 900) : rng.Range(900, 4000);
}
size_t CommentBytes(Rng& rng) {
  return rng.Percent(70) ? rng.Range(40, 400) : rng.Range(400, 1500);
}

class Generator {
 public:
  Generator(std::string db_path, fs::path attachments_dir, const SampleAppOptions& options)
      : db_path_(std::move(db_path)),
        attachments_dir_(std::move(attachments_dir)),
        options_(options) {}

  Result<SampleAppStats> Run() {
    LB_ASSIGN_OR_RETURN(db_, Connection::Open(db_path_, /*create=*/true));
    LB_RETURN_IF_ERROR(
        db_->Exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                  "PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY",
                  "tune for loading"));
    LB_ASSIGN_OR_RETURN(page_size_, db_->QueryInt("PRAGMA page_size"));
    LB_ASSIGN_OR_RETURN(page_count_, db_->Prepare("PRAGMA page_count"));
    LB_RETURN_IF_ERROR(db_->Exec("BEGIN", "begin the load"));
    LB_RETURN_IF_ERROR(db_->Exec(kSchema, "create the schema"));
    Rng metadata_rng(options_.seed, kStreamMetadata);
    LB_RETURN_IF_ERROR(WriteMetadata(db_.get(), metadata_rng, options_.version));

    const uint64_t media_bytes = MediaBlobCount() * options_.media_blob_bytes;
    const uint64_t fixed = media_bytes + kEstimatedMetadataBytes;
    const uint64_t left = options_.target_bytes > fixed ? options_.target_bytes - fixed : 0;
    estimated_issues_ = std::max<uint64_t>(
        kMinIssues, static_cast<uint64_t>(left * kDataShare) / kEstimatedBytesPerIssue);
    users_ = std::clamp<uint64_t>(estimated_issues_ / 40, 20, 20000);

    LB_RETURN_IF_ERROR(WriteUsers());
    LB_RETURN_IF_ERROR(WriteMedia());
    LB_ASSIGN_OR_RETURN(const uint64_t before_data, PageBytes());
    const uint64_t data_left =
        options_.target_bytes > before_data ? options_.target_bytes - before_data : 0;
    LB_RETURN_IF_ERROR(WriteIssues(before_data + static_cast<uint64_t>(data_left * kDataShare)));
    LB_RETURN_IF_ERROR(WriteAttachments());
    LB_RETURN_IF_ERROR(db_->Exec(kIndexes, "create the indexes"));
    LB_RETURN_IF_ERROR(WriteLogs());
    LB_RETURN_IF_ERROR(db_->Exec("COMMIT", "commit the load"));
    if (options_.wal) {
      LB_ASSIGN_OR_RETURN(const std::string mode, db_->QueryText("PRAGMA journal_mode = WAL"));
      if (mode != "wal") {
        return UnavailableError("sample app database " + db_path_ +
                                ": switch to WAL journal mode: SQLite kept mode " + mode);
      }
    }
    page_count_.reset();
    db_.reset();

    std::error_code ec;
    stats_.database_bytes = fs::file_size(db_path_, ec);
    if (ec) {
      return UnavailableError("sample app database " + db_path_ +
                              ": read its size: " + ec.message());
    }
    return stats_;
  }

 private:
  uint64_t MediaBlobCount() const {
    if (options_.media_blobs <= 0 || options_.media_blob_bytes == 0) return 0;
    const uint64_t share = static_cast<uint64_t>(options_.target_bytes * kMediaShare);
    const uint64_t for_share = (share + options_.media_blob_bytes - 1) / options_.media_blob_bytes;
    return std::max<uint64_t>(static_cast<uint64_t>(options_.media_blobs), for_share);
  }

  Result<uint64_t> PageBytes() {
    LB_ASSIGN_OR_RETURN(bool row, page_count_->Step());
    const int64_t pages = row ? page_count_->Int(0) : 0;
    page_count_->Reset();
    return static_cast<uint64_t>(pages * page_size_);
  }

  Status WriteUsers() {
    Rng rng(options_.seed, kStreamUsers);
    LB_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("INSERT INTO trk_users (id, login, display_name, "
                                                "email, role, active, created_at) VALUES "
                                                "(?, ?, ?, ?, ?, ?, ?)"));
    for (uint64_t id = 1; id <= users_; ++id) {
      const std::string_view first = rng.Pick(kFirstNames);
      const std::string_view last = rng.Pick(kLastNames);
      std::string login(1, static_cast<char>(first[0] - 'A' + 'a'));
      for (char c : last)
        login.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      login += std::to_string(id);
      const std::string display = std::string(first) + " " + std::string(last);
      const std::string email = login + "@acme.example";
      const Timestamp created(kHistoryEnd - kHistorySpan -
                              static_cast<int64_t>(rng.Uniform(kHistorySpan / 2)));
      LB_RETURN_IF_ERROR(stmt->Bind(1, id)
                             .Bind(2, std::string_view(login))
                             .Bind(3, std::string_view(display))
                             .Bind(4, std::string_view(email))
                             .Bind(5, id <= 3 ? std::string_view("admin") : rng.Pick(kRoles))
                             .Bind(6, rng.Percent(95) ? 1 : 0)
                             .Bind(7, created.view())
                             .Run());
    }
    stats_.users = users_;
    return OkStatus();
  }

  Status WriteMedia() {
    struct MediaKind {
      std::string_view name, mime, magic;
    };
    static constexpr std::array<MediaKind, 4> kKinds = {{
        {"splash-screen-%d.png", "image/png", std::string_view("\x89PNG\r\n\x1a\n", 8)},
        {"app-release-%d.apk", "application/vnd.android.package-archive",
         std::string_view("PK\x03\x04", 4)},
        {"onboarding-video-%d.mp4", "video/mp4",
         std::string_view("\0\0\0\x20"
                          "ftypisom",
                          12)},
        {"mobile-build-%d.zip", "application/zip", std::string_view("PK\x03\x04", 4)},
    }};
    Rng rng(options_.seed, kStreamMedia);
    LB_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("INSERT INTO trk_media (name, mime, size, "
                                                "content, uploaded_at) VALUES (?, ?, ?, ?, ?)"));
    const uint64_t count = MediaBlobCount();
    std::string content;
    for (uint64_t i = 0; i < count; ++i) {
      const MediaKind& kind = kKinds[i % kKinds.size()];
      char name[64];
      std::snprintf(name, sizeof name, ToStr(kind.name).c_str(), static_cast<int>(i + 1));
      content.assign(kind.magic);
      AppendRandomBytes(rng,
                        options_.media_blob_bytes -
                            std::min<uint64_t>(options_.media_blob_bytes, kind.magic.size()),
                        &content);
      const Timestamp uploaded(kHistoryEnd - kHistorySpan +
                               static_cast<int64_t>(rng.Uniform(kHistorySpan)));
      LB_RETURN_IF_ERROR(stmt->Bind(1, name)
                             .Bind(2, kind.mime)
                             .Bind(3, static_cast<uint64_t>(content.size()))
                             .BindBlob(4, content)
                             .Bind(5, uploaded.view())
                             .Run());
    }
    return OkStatus();
  }

  Status WriteIssues(uint64_t stop_bytes) {
    Rng rng(options_.seed, kStreamIssues);
    LB_ASSIGN_OR_RETURN(issues_, IssueWriter::Create(db_.get(), users_));
    const int64_t start = kHistoryEnd - kHistorySpan;
    const int64_t gap =
        std::max<int64_t>(1, kHistorySpan / static_cast<int64_t>(estimated_issues_));
    std::array<uint64_t, kProjectKeys.size()> numbers{};
    for (uint64_t i = 0;; ++i) {
      if (i >= kMinIssues && i % 32 == 0) {
        LB_ASSIGN_OR_RETURN(const uint64_t bytes, PageBytes());
        if (bytes >= stop_bytes) break;
      }
      IssueDraft draft;
      draft.project = static_cast<int>(rng.Uniform(kProjectKeys.size()));
      draft.number = ++numbers[draft.project];
      draft.created_at = start + static_cast<int64_t>(i) * gap +
                         static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(gap)));
      const bool recent = i * 100 >= estimated_issues_ * 85;
      draft.status = IssueStatus(rng, recent);
      draft.reporter = rng.Range(1, users_);
      const int64_t updated_at =
          draft.created_at + static_cast<int64_t>(rng.Uniform(recent ? 3 * kDay : 40 * kDay));
      LB_ASSIGN_OR_RETURN(const int64_t id,
                          issues_->Issue(rng, draft, updated_at, DescriptionBytes(rng)));
      last_activity_ = std::max(last_activity_, updated_at);
      const int64_t span = std::max<int64_t>(updated_at - draft.created_at, 60);
      const uint64_t history = rng.Range(1, 8);
      for (uint64_t h = 0; h < history; ++h) {
        LB_RETURN_IF_ERROR(
            issues_->RandomHistory(rng, id,
                                   draft.created_at + span * static_cast<int64_t>(h + 1) /
                                                          static_cast<int64_t>(history + 1)));
      }
      const uint64_t comments = rng.Uniform(7);
      for (uint64_t c = 0; c < comments; ++c) {
        const int64_t at = draft.created_at +
                           span * static_cast<int64_t>(c + 1) / static_cast<int64_t>(comments + 1);
        const size_t bytes = CommentBytes(rng);
        const bool edited = rng.Percent(5);
        LB_RETURN_IF_ERROR(issues_->Comment(rng, id, at, bytes, edited));
      }
    }
    stats_.issues = issues_->issues();
    stats_.comments = issues_->comments();
    stats_.history = issues_->history_rows();
    return OkStatus();
  }

  // A few dozen files under year/month/issue folders, attached to issues spread over the
  // whole history. File contents depend only on the seed.
  Status WriteAttachments() {
    Rng rng(options_.seed, kStreamAttachments);
    const uint64_t issues = stats_.issues;
    LB_ASSIGN_OR_RETURN(auto issue, db_->Prepare("SELECT issue_key, created_at, reporter_id "
                                                 "FROM trk_issues WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO trk_attachments (issue_id, path, "
                                                  "file_name, mime, size, sha256, uploaded_by, "
                                                  "uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    for (int f = 0; f < kAttachmentFiles; ++f) {
      const uint64_t slot = std::max<uint64_t>(1, issues / kAttachmentFiles);
      const int64_t issue_id = static_cast<int64_t>(std::min<uint64_t>(
          issues, 1 + static_cast<uint64_t>(f) * issues / kAttachmentFiles + rng.Uniform(slot)));
      LB_ASSIGN_OR_RETURN(bool found, issue->Bind(1, issue_id).Step());
      if (!found) {
        issue->Reset();
        return InternalError("sample app database " + db_path_ + ": attach a file to issue " +
                             std::to_string(issue_id) + ": the issue is missing");
      }
      const std::string key = issue->Text(0);
      int64_t created_at = 0;
      ParseTimestamp(issue->Text(1), &created_at);
      const int64_t reporter = issue->Int(2);
      issue->Reset();

      Rng file_rng(options_.seed, (kStreamAttachments << 32) | static_cast<uint64_t>(f));
      const AttachmentFile file = f == kLargeAttachmentIndex
                                      ? MakeLargeAttachment(file_rng)
                                      : MakeAttachment(file_rng, f % 4, f + 1);
      const int64_t uploaded_at = created_at + static_cast<int64_t>(rng.Uniform(3 * kDay));
      LB_RETURN_IF_ERROR(StoreAttachment(attachments_dir_, insert.get(), issue_id, key, reporter,
                                         uploaded_at, file));
      ++stats_.attachment_files;
      stats_.attachment_bytes += file.bytes.size();
    }
    return OkStatus();
  }

  // Logs of the 30 days up to the last activity, until the database reaches its target size.
  Status WriteLogs() {
    Rng rng(options_.seed, kStreamLogs);
    LB_ASSIGN_OR_RETURN(auto logs, LogWriter::Create(db_.get(), users_));
    LB_ASSIGN_OR_RETURN(const uint64_t now_bytes, PageBytes());
    const uint64_t left = options_.target_bytes > now_bytes ? options_.target_bytes - now_bytes : 0;
    const uint64_t estimated_ticks =
        std::max<uint64_t>(kMinLogTicks, left / kEstimatedBytesPerLogTick);
    const int64_t start = last_activity_ - kLogSpan;
    std::string subject;
    for (uint64_t t = 0;; ++t) {
      if (t >= kMinLogTicks && t % 64 == 0) {
        LB_ASSIGN_OR_RETURN(const uint64_t bytes, PageBytes());
        if (bytes >= options_.target_bytes) break;
      }
      const int64_t at =
          start + static_cast<int64_t>(t * static_cast<uint64_t>(kLogSpan) / estimated_ticks);
      for (int i = 0; i < 3; ++i) {
        const unsigned user = static_cast<unsigned>(rng.Range(1, users_));
        const char* verb = rng.Percent(70) ? "viewed" : "updated";
        const std::string key(rng.Pick(kProjectKeys));
        const unsigned issue = static_cast<unsigned>(rng.Range(1, 9999));
        Format(&subject, "user %u %s %s-%u", user, verb, key.c_str(), issue);
        LB_RETURN_IF_ERROR(logs->Log(rng, at, subject));
      }
      LB_RETURN_IF_ERROR(logs->Api(rng, at));
      LB_RETURN_IF_ERROR(logs->Api(rng, at));
      LB_RETURN_IF_ERROR(logs->Trace(rng, at));
    }
    stats_.log_rows = logs->rows();
    return OkStatus();
  }

  std::string db_path_;
  fs::path attachments_dir_;
  SampleAppOptions options_;
  std::unique_ptr<Connection> db_;
  std::unique_ptr<Statement> page_count_;
  int64_t page_size_ = 4096;
  std::unique_ptr<IssueWriter> issues_;
  uint64_t estimated_issues_ = kMinIssues;
  int64_t last_activity_ = kHistoryEnd - kHistorySpan;
  uint64_t users_ = 20;
  SampleAppStats stats_;
};

void RemoveDatabaseFiles(const std::string& db_path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db_path + suffix, ec);
}

Status CheckExists(const std::string& db_path) {
  std::error_code ec;
  if (!fs::exists(db_path, ec)) {
    return NotFoundError("sample app database " + db_path +
                         ": open: the file does not exist; create it with CreateSampleApp");
  }
  return OkStatus();
}

}  // namespace

Result<SampleAppStats> CreateSampleApp(const std::string& db_path,
                                       const std::string& attachments_dir,
                                       const SampleAppOptions& options) {
  if (options.target_bytes == 0) {
    return InvalidArgumentError("sample app database " + db_path +
                                ": create: target size must be above zero");
  }
  if (options.version.empty()) {
    return InvalidArgumentError("sample app database " + db_path +
                                ": create: the application version is empty");
  }
  std::error_code ec;
  if (fs::exists(db_path, ec)) {
    return AlreadyExistsError("sample app database " + db_path +
                              ": create: the file exists already; remove it or choose another "
                              "path");
  }
  if (fs::exists(attachments_dir, ec) && !fs::is_empty(attachments_dir, ec)) {
    return AlreadyExistsError("sample app attachments folder " + attachments_dir +
                              ": create: the folder is not empty; remove it or choose another "
                              "path");
  }
  fs::create_directories(attachments_dir, ec);
  if (ec) {
    return UnavailableError("sample app attachments folder " + attachments_dir +
                            ": create: " + ec.message());
  }
  Result<SampleAppStats> stats = Generator(db_path, attachments_dir, options).Run();
  if (!stats.ok()) {
    RemoveDatabaseFiles(db_path);
    for (const auto& entry : fs::directory_iterator(attachments_dir, ec)) {
      fs::remove_all(entry.path(), ec);
    }
  }
  return stats;
}

namespace {

// ---------------------------------------------------------------------------------------------
// A bad upgrade.

// The statuses an issue moves through, in order; Closed issues reopen.
std::string_view NextStatus(std::string_view status) {
  if (status == "Open" || status == "Reopened") return "In Progress";
  if (status == "In Progress") return "In Review";
  if (status == "In Review") return "Resolved";
  if (status == "Resolved") return "Closed";
  return "Reopened";
}

// The latest time recorded anywhere the application appends, so that a change happens after
// everything already there.
Result<int64_t> LatestActivity(Connection* db) {
  int64_t latest = kHistoryEnd;
  for (const char* sql :
       {"SELECT updated_at FROM trk_issues ORDER BY id DESC LIMIT 1",
        "SELECT changed_at FROM trk_history ORDER BY id DESC LIMIT 1",
        "SELECT coalesce(edited_at, created_at) FROM trk_comments ORDER BY id DESC LIMIT 1",
        "SELECT logged_at FROM trk_log ORDER BY id DESC LIMIT 1"}) {
    LB_ASSIGN_OR_RETURN(const std::string text, db->QueryText(sql));
    int64_t at = 0;
    if (ParseTimestamp(text, &at)) latest = std::max(latest, at);
  }
  return latest;
}

Status AppendLog(Connection* db, int64_t at, std::string_view level, std::string_view logger,
                 std::string_view message) {
  LB_ASSIGN_OR_RETURN(auto stmt, db->Prepare("INSERT INTO trk_log (logged_at, level, logger, "
                                             "message) VALUES (?, ?, ?, ?)"));
  const Timestamp ts(at);
  return stmt->Bind(1, ts.view()).Bind(2, level).Bind(3, logger).Bind(4, message).Run();
}

Result<BadUpgradeReport> BreakUpgrade(Connection* db, const fs::path& attachments_dir,
                                      const std::string& new_version) {
  BadUpgradeReport report;
  report.new_version = new_version;
  LB_ASSIGN_OR_RETURN(
      const std::string old_version,
      db->QueryText("SELECT value FROM trk_app_settings WHERE key = 'schema_version'"));
  if (old_version == new_version) {
    return FailedPreconditionError("sample app database " + db->path() + ": upgrade to " +
                                   new_version + ": that version is installed already");
  }
  LB_ASSIGN_OR_RETURN(const int64_t project,
                      db->QueryInt("SELECT project_id FROM trk_issues WHERE status = 'Closed' "
                                   "GROUP BY project_id ORDER BY count(*) DESC, project_id "
                                   "LIMIT 1"));
  {
    LB_ASSIGN_OR_RETURN(auto count, db->Prepare("SELECT count(*) FROM trk_comments WHERE "
                                                "issue_id IN (SELECT id FROM trk_issues WHERE "
                                                "project_id = ? AND status = 'Closed')"));
    LB_ASSIGN_OR_RETURN(bool row, count->Bind(1, project).Step());
    report.comments_deleted = row ? static_cast<uint64_t>(count->Int(0)) : 0;
    count->Reset();
    LB_ASSIGN_OR_RETURN(auto remove, db->Prepare("DELETE FROM trk_issues WHERE project_id = ? "
                                                 "AND status = 'Closed'"));
    LB_RETURN_IF_ERROR(remove->Bind(1, project).Run());
    report.issues_deleted = static_cast<uint64_t>(db->Changes());
  }
  LB_RETURN_IF_ERROR(
      db->Exec("UPDATE trk_layouts SET definition = substr(definition, 1, "
               "length(definition) / 2), version = version + 1 "
               "WHERE kind = 'edit'",
               "rewrite the edit layouts"));
  report.layouts_corrupted = static_cast<uint64_t>(db->Changes());
  {
    LB_ASSIGN_OR_RETURN(auto bump, db->Prepare("UPDATE trk_app_settings SET value = ? "
                                               "WHERE key = 'schema_version'"));
    LB_RETURN_IF_ERROR(bump->Bind(1, std::string_view(new_version)).Run());
  }
  LB_ASSIGN_OR_RETURN(const int64_t latest, LatestActivity(db));
  LB_RETURN_IF_ERROR(AppendLog(
      db, latest + 60, "INFO", "tracker.upgrade",
      "upgrade from " + old_version + " to " + new_version + " started: 14 migration steps"));
  LB_RETURN_IF_ERROR(AppendLog(db, latest + 240, "ERROR", "tracker.upgrade",
                               "migration step 9 (split layouts into sections) failed after "
                               "partial writes; the schema version was recorded anyway"));

  // The largest file goes; the first remaining one is cut in half.
  LB_ASSIGN_OR_RETURN(auto by_size,
                      db->Prepare("SELECT path FROM trk_attachments ORDER BY size DESC, id"));
  std::error_code ec;
  for (;;) {
    LB_ASSIGN_OR_RETURN(bool row, by_size->Step());
    if (!row) break;
    const std::string path = by_size->Text(0);
    if (fs::is_regular_file(attachments_dir / path, ec)) {
      report.file_deleted = path;
      break;
    }
  }
  by_size->Reset();
  LB_ASSIGN_OR_RETURN(auto by_id, db->Prepare("SELECT path FROM trk_attachments ORDER BY id"));
  for (;;) {
    LB_ASSIGN_OR_RETURN(bool row, by_id->Step());
    if (!row) break;
    const std::string path = by_id->Text(0);
    if (path != report.file_deleted && fs::is_regular_file(attachments_dir / path, ec)) {
      report.file_modified = path;
      break;
    }
  }
  by_id->Reset();
  if (!report.file_deleted.empty() && !fs::remove(attachments_dir / report.file_deleted, ec)) {
    return UnavailableError("sample app attachments: delete file " +
                            (attachments_dir / report.file_deleted).string() + ": " + ec.message());
  }
  if (!report.file_modified.empty()) {
    const fs::path path = attachments_dir / report.file_modified;
    const uintmax_t size = fs::file_size(path, ec);
    if (!ec) fs::resize_file(path, size / 2, ec);
    if (ec) {
      return UnavailableError("sample app attachments: truncate file " + path.string() + ": " +
                              ec.message());
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// A day of changes.

class Changer {
 public:
  Changer(Connection* db, fs::path attachments_dir, uint64_t seed)
      : db_(db),
        attachments_dir_(std::move(attachments_dir)),
        rng_(seed, kStreamChange),
        seed_(seed) {}

  Result<ChangeReport> Run(double fraction) {
    LB_RETURN_IF_ERROR(Load());
    const uint64_t rows = users_ + issues_.count + comments_.count + history_.count + attachments_;
    const uint64_t total =
        std::max<uint64_t>(1, static_cast<uint64_t>(fraction * static_cast<double>(rows) + 0.5));
    const uint64_t deletes = static_cast<uint64_t>(total * 0.02 + 0.5);
    const uint64_t inserts = static_cast<uint64_t>(total * 0.28 + 0.5);
    const uint64_t updates = total - std::min(total, inserts + deletes);
    uint64_t issue_updates = comments_.count == 0 ? updates : (updates + 3) / 4;
    if (issues_.count == 0) issue_updates = 0;
    const uint64_t comment_edits = comments_.count == 0 ? 0 : updates - issue_updates;
    const uint64_t extra = inserts > issue_updates ? inserts - issue_updates : 0;
    const uint64_t new_issues = extra / 4;
    const uint64_t new_comments = issues_.count == 0 ? 0 : extra - 2 * new_issues;

    LB_ASSIGN_OR_RETURN(writer_, IssueWriter::Create(db_, users_));
    LB_ASSIGN_OR_RETURN(logs_, LogWriter::Create(db_, users_));
    LB_RETURN_IF_ERROR(UpdateIssues(issue_updates));
    LB_RETURN_IF_ERROR(EditComments(comment_edits));
    LB_RETURN_IF_ERROR(AddIssues(new_issues));
    LB_RETURN_IF_ERROR(AddComments(new_comments));
    LB_RETURN_IF_ERROR(Delete(deletes));
    LB_RETURN_IF_ERROR(ChangeFiles());
    report_.inserted += writer_->issues() + writer_->comments() + writer_->history_rows();
    return report_;
  }

 private:
  struct Range {
    uint64_t count = 0;
    int64_t min_id = 0, max_id = 0;
  };

  Result<Range> LoadRange(std::string_view table) {
    Range range;
    const std::string t(table);
    LB_ASSIGN_OR_RETURN(const int64_t count, db_->QueryInt("SELECT count(*) FROM " + t));
    LB_ASSIGN_OR_RETURN(range.min_id, db_->QueryInt("SELECT min(id) FROM " + t));
    LB_ASSIGN_OR_RETURN(range.max_id, db_->QueryInt("SELECT max(id) FROM " + t));
    range.count = static_cast<uint64_t>(count);
    return range;
  }

  Status Load() {
    LB_ASSIGN_OR_RETURN(const int64_t users, db_->QueryInt("SELECT count(*) FROM trk_users"));
    users_ = static_cast<uint64_t>(users);
    if (users_ == 0) {
      return FailedPreconditionError("sample app database " + db_->path() +
                                     ": apply changes: the application has no users");
    }
    LB_ASSIGN_OR_RETURN(issues_, LoadRange("trk_issues"));
    LB_ASSIGN_OR_RETURN(comments_, LoadRange("trk_comments"));
    LB_ASSIGN_OR_RETURN(history_, LoadRange("trk_history"));
    LB_ASSIGN_OR_RETURN(const int64_t attachments,
                        db_->QueryInt("SELECT count(*) FROM trk_attachments"));
    attachments_ = static_cast<uint64_t>(attachments);
    LB_ASSIGN_OR_RETURN(const int64_t max_attachment,
                        db_->QueryInt("SELECT max(id) FROM trk_attachments"));
    max_attachment_id_ = max_attachment;
    LB_ASSIGN_OR_RETURN(now_, LatestActivity(db_));
    now_ += 3600;
    start_ = now_;
    LB_ASSIGN_OR_RETURN(auto last_key, db_->Prepare("SELECT issue_key FROM trk_issues WHERE "
                                                    "project_id = ? ORDER BY id DESC LIMIT 1"));
    for (size_t p = 0; p < kProjectKeys.size(); ++p) {
      LB_ASSIGN_OR_RETURN(bool row, last_key->Bind(1, static_cast<int64_t>(p + 1)).Step());
      if (row) {
        const std::string key = last_key->Text(0);
        const size_t dash = key.rfind('-');
        if (dash != std::string::npos)
          numbers_[p] = std::strtoull(key.c_str() + dash + 1, nullptr, 10);
      }
      last_key->Reset();
    }
    return OkStatus();
  }

  int64_t Tick() {
    now_ += static_cast<int64_t>(rng_.Range(5, 90));
    return now_;
  }

  // The first existing id at or after `id` in `table`, or 0.
  Result<int64_t> ExistingAtOrAfter(std::string_view table, int64_t id) {
    auto& stmt = table == "trk_issues"     ? at_or_after_issue_
                 : table == "trk_comments" ? at_or_after_comment_
                                           : at_or_after_history_;
    if (stmt == nullptr) {
      LB_ASSIGN_OR_RETURN(stmt, db_->Prepare("SELECT id FROM " + std::string(table) +
                                             " WHERE id >= ? ORDER BY id LIMIT 1"));
    }
    LB_ASSIGN_OR_RETURN(bool row, stmt->Bind(1, id).Step());
    const int64_t found = row ? stmt->Int(0) : 0;
    stmt->Reset();
    return found;
  }

  // `needed` distinct existing ids among the most recent tenth of `range` (wider when the
  // tenth holds too few).
  Result<std::vector<int64_t>> PickRecent(std::string_view table, const Range& range,
                                          uint64_t needed) {
    std::vector<int64_t> picked;
    if (needed == 0 || range.count == 0) return picked;
    const uint64_t span = static_cast<uint64_t>(range.max_id - range.min_id + 1);
    const uint64_t recent = std::min(span, std::max(span / 10, needed * 2));
    const int64_t low = range.max_id - static_cast<int64_t>(recent) + 1;
    std::unordered_set<int64_t> seen;
    for (uint64_t attempt = 0; picked.size() < needed && attempt < needed * 20 + 100; ++attempt) {
      LB_ASSIGN_OR_RETURN(
          const int64_t id,
          ExistingAtOrAfter(table, low + static_cast<int64_t>(rng_.Uniform(recent))));
      if (id != 0 && seen.insert(id).second) picked.push_back(id);
    }
    return picked;
  }

  Result<int64_t> PickAny(std::string_view table, const Range& range) {
    if (range.count == 0) return int64_t{0};
    const uint64_t span = static_cast<uint64_t>(range.max_id - range.min_id + 1);
    return ExistingAtOrAfter(table, range.min_id + static_cast<int64_t>(rng_.Uniform(span)));
  }

  Status UpdateIssues(uint64_t count) {
    LB_ASSIGN_OR_RETURN(const std::vector<int64_t> ids, PickRecent("trk_issues", issues_, count));
    LB_ASSIGN_OR_RETURN(auto read, db_->Prepare("SELECT status, priority, issue_key FROM "
                                                "trk_issues WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(auto set_status,
                        db_->Prepare("UPDATE trk_issues SET status = ?1, updated_at = ?2, "
                                     "resolved_at = CASE WHEN ?1 IN ('Resolved', 'Closed') "
                                     "THEN ?2 END WHERE id = ?3"));
    LB_ASSIGN_OR_RETURN(auto set_priority, db_->Prepare("UPDATE trk_issues SET priority = ?, "
                                                        "updated_at = ? WHERE id = ?"));
    for (const int64_t id : ids) {
      LB_ASSIGN_OR_RETURN(bool row, read->Bind(1, id).Step());
      if (!row) {
        read->Reset();
        continue;
      }
      const std::string status = read->Text(0), priority = read->Text(1), key = read->Text(2);
      read->Reset();
      const Timestamp at(Tick());
      const uint64_t user = rng_.Range(1, users_);
      if (rng_.Percent(80)) {
        const std::string_view next = NextStatus(status);
        LB_RETURN_IF_ERROR(set_status->Bind(1, next).Bind(2, at.view()).Bind(3, id).Run());
        LB_RETURN_IF_ERROR(writer_->History(id, user, "status", status, next, now_));
      } else {
        std::string_view next = rng_.Pick(kPriorities);
        if (next == priority) next = priority == "High" ? "Critical" : "High";
        LB_RETURN_IF_ERROR(set_priority->Bind(1, next).Bind(2, at.view()).Bind(3, id).Run());
        LB_RETURN_IF_ERROR(writer_->History(id, user, "priority", priority, next, now_));
      }
      touched_issues_.insert(id);
      ++report_.updated;
      Format(&subject_, "user %u updated %s", static_cast<unsigned>(user), key.c_str());
      LB_RETURN_IF_ERROR(logs_->Log(rng_, now_, subject_));
      LB_RETURN_IF_ERROR(logs_->Api(rng_, now_));
    }
    return OkStatus();
  }

  Status EditComments(uint64_t count) {
    LB_ASSIGN_OR_RETURN(const std::vector<int64_t> ids,
                        PickRecent("trk_comments", comments_, count));
    LB_ASSIGN_OR_RETURN(auto read, db_->Prepare("SELECT body FROM trk_comments WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(auto write, db_->Prepare("UPDATE trk_comments SET body = ?, "
                                                 "edited_at = ? WHERE id = ?"));
    std::string body;
    for (const int64_t id : ids) {
      LB_ASSIGN_OR_RETURN(bool row, read->Bind(1, id).Step());
      if (!row) {
        read->Reset();
        continue;
      }
      body = read->Text(0);
      read->Reset();
      body.append("\n\nEdit: ");
      AppendProse(rng_, rng_.Range(40, 200), &body);
      const Timestamp at(Tick());
      LB_RETURN_IF_ERROR(
          write->Bind(1, std::string_view(body)).Bind(2, at.view()).Bind(3, id).Run());
      edited_comments_.insert(id);
      ++report_.updated;
      Format(&subject_, "comment %lld edited", static_cast<long long>(id));
      LB_RETURN_IF_ERROR(logs_->Log(rng_, now_, subject_));
    }
    return OkStatus();
  }

  Status AddIssues(uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
      IssueDraft draft;
      draft.project = static_cast<int>(rng_.Uniform(kProjectKeys.size()));
      draft.number = ++numbers_[draft.project];
      draft.created_at = Tick();
      draft.status = "Open";
      draft.reporter = rng_.Range(1, users_);
      LB_ASSIGN_OR_RETURN(const int64_t id,
                          writer_->Issue(rng_, draft, draft.created_at, DescriptionBytes(rng_)));
      const int64_t at = Tick();
      LB_RETURN_IF_ERROR(writer_->Comment(rng_, id, at, CommentBytes(rng_), false));
      Format(&subject_, "user %u created %s-%llu", static_cast<unsigned>(draft.reporter),
             ToStr(kProjectKeys[draft.project]).c_str(),
             static_cast<unsigned long long>(draft.number));
      LB_RETURN_IF_ERROR(logs_->Log(rng_, now_, subject_));
      LB_RETURN_IF_ERROR(logs_->Api(rng_, now_));
    }
    return OkStatus();
  }

  Status AddComments(uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t span = static_cast<uint64_t>(issues_.max_id - issues_.min_id + 1);
      const uint64_t recent = std::max<uint64_t>(1, span / 10);
      LB_ASSIGN_OR_RETURN(
          const int64_t issue,
          ExistingAtOrAfter("trk_issues",
                            issues_.max_id - static_cast<int64_t>(rng_.Uniform(recent))));
      if (issue == 0) continue;
      const int64_t at = Tick();
      LB_RETURN_IF_ERROR(writer_->Comment(rng_, issue, at, CommentBytes(rng_), false));
      touched_issues_.insert(issue);
      Format(&subject_, "comment added to issue %lld", static_cast<long long>(issue));
      LB_RETURN_IF_ERROR(logs_->Log(rng_, now_, subject_));
    }
    return OkStatus();
  }

  // Scattered deletes: single comments and history rows, now and then a whole issue (its
  // comments and history go with it by cascade). Issues with files are kept, and so is every
  // row this change already wrote.
  Status Delete(uint64_t count) {
    LB_ASSIGN_OR_RETURN(auto children,
                        db_->Prepare("SELECT (SELECT count(*) FROM trk_comments WHERE issue_id "
                                     "= ?1), (SELECT count(*) FROM trk_history WHERE issue_id = "
                                     "?1), (SELECT count(*) FROM trk_attachments WHERE "
                                     "issue_id = ?1), (SELECT count(*) FROM trk_comments WHERE "
                                     "issue_id = ?1 AND edited_at >= ?2)"));
    const Timestamp start(start_);
    LB_ASSIGN_OR_RETURN(auto delete_issue, db_->Prepare("DELETE FROM trk_issues WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(auto delete_comment, db_->Prepare("DELETE FROM trk_comments WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(auto delete_history, db_->Prepare("DELETE FROM trk_history WHERE id = ?"));
    uint64_t deleted = 0;
    for (uint64_t attempt = 0; deleted < count && attempt < count * 20 + 100; ++attempt) {
      const uint64_t r = rng_.Uniform(10);
      if (r < 2 && count - deleted >= 12) {
        LB_ASSIGN_OR_RETURN(const int64_t id, PickAny("trk_issues", issues_));
        if (id == 0 || id > issues_.max_id || touched_issues_.count(id) > 0) continue;
        LB_ASSIGN_OR_RETURN(bool row, children->Bind(1, id).Bind(2, start.view()).Step());
        const int64_t comments = row ? children->Int(0) : 0;
        const int64_t history = row ? children->Int(1) : 0;
        const int64_t kept = row ? children->Int(2) + children->Int(3) : 1;
        children->Reset();
        if (kept > 0) continue;
        LB_RETURN_IF_ERROR(delete_issue->Bind(1, id).Run());
        deleted += 1 + static_cast<uint64_t>(comments + history);
      } else if (r < 7 && comments_.count > 0) {
        LB_ASSIGN_OR_RETURN(const int64_t id, PickAny("trk_comments", comments_));
        if (id == 0 || id > comments_.max_id || edited_comments_.count(id) > 0) continue;
        LB_RETURN_IF_ERROR(delete_comment->Bind(1, id).Run());
        deleted += static_cast<uint64_t>(db_->Changes());
      } else if (history_.count > 0) {
        LB_ASSIGN_OR_RETURN(const int64_t id, PickAny("trk_history", history_));
        if (id == 0 || id > history_.max_id) continue;
        LB_RETURN_IF_ERROR(delete_history->Bind(1, id).Run());
        deleted += static_cast<uint64_t>(db_->Changes());
      }
      Tick();
    }
    report_.deleted += deleted;
    return OkStatus();
  }

  // Two new files on recent issues, and one existing file that grows (a log re-uploaded, a
  // document revised) with its row updated to match.
  Status ChangeFiles() {
    LB_ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO trk_attachments (issue_id, path, "
                                                  "file_name, mime, size, sha256, uploaded_by, "
                                                  "uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    LB_ASSIGN_OR_RETURN(auto key, db_->Prepare("SELECT issue_key FROM trk_issues WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(const std::vector<int64_t> issues, PickRecent("trk_issues", issues_, 2));
    int number = static_cast<int>(max_attachment_id_) + 1;
    for (const int64_t issue : issues) {
      LB_ASSIGN_OR_RETURN(bool row, key->Bind(1, issue).Step());
      const std::string issue_key = row ? key->Text(0) : std::string();
      key->Reset();
      if (!row) continue;
      Rng file_rng(seed_, (kStreamChange << 32) | static_cast<uint64_t>(number));
      const AttachmentFile file =
          MakeAttachment(file_rng, static_cast<int>(rng_.Uniform(4)), number);
      ++number;
      const int64_t user = static_cast<int64_t>(rng_.Range(1, users_));
      const int64_t at = Tick();
      LB_RETURN_IF_ERROR(
          StoreAttachment(attachments_dir_, insert.get(), issue, issue_key, user, at, file));
      ++report_.inserted;
    }

    if (attachments_ == 0) return OkStatus();
    LB_ASSIGN_OR_RETURN(auto files, db_->Prepare("SELECT id, path, mime FROM trk_attachments "
                                                 "WHERE id >= ? ORDER BY id"));
    LB_ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE trk_attachments SET size = ?, "
                                                  "sha256 = ? WHERE id = ?"));
    LB_ASSIGN_OR_RETURN(auto first, db_->QueryInt("SELECT min(id) FROM trk_attachments"));
    const int64_t start =
        first +
        static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(max_attachment_id_ - first + 1)));
    for (const int64_t from : {start, first}) {
      LB_ASSIGN_OR_RETURN(bool row, files->Bind(1, from).Step());
      while (row) {
        const int64_t id = files->Int(0);
        const fs::path path = attachments_dir_ / files->Text(1);
        const std::string mime = files->Text(2);
        std::error_code ec;
        if (id <= max_attachment_id_ && fs::is_regular_file(path, ec)) {
          files->Reset();
          LB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
          if (mime.rfind("text/", 0) == 0) {
            bytes.push_back('\n');
            AppendProse(rng_, rng_.Range(2, 16) << 10, &bytes);
          } else {
            AppendRandomBytes(rng_, rng_.Range(2, 64) << 10, &bytes);
          }
          LB_RETURN_IF_ERROR(WriteFile(path, bytes));
          const std::string sha = Sha256Hex(bytes);
          LB_RETURN_IF_ERROR(update->Bind(1, static_cast<uint64_t>(bytes.size()))
                                 .Bind(2, std::string_view(sha))
                                 .Bind(3, id)
                                 .Run());
          ++report_.updated;
          return OkStatus();
        }
        LB_ASSIGN_OR_RETURN(row, files->Step());
      }
      files->Reset();
    }
    return OkStatus();
  }

  Connection* db_;
  fs::path attachments_dir_;
  Rng rng_;
  uint64_t seed_;
  uint64_t users_ = 0;
  Range issues_, comments_, history_;
  uint64_t attachments_ = 0;
  int64_t max_attachment_id_ = 0;
  int64_t now_ = kHistoryEnd;
  int64_t start_ = kHistoryEnd;  // rows edited by this change carry times from here on
  // Rows this change already touched; deletes leave them alone so every row changes once.
  std::unordered_set<int64_t> touched_issues_, edited_comments_;
  std::array<uint64_t, kProjectKeys.size()> numbers_{};
  std::unique_ptr<IssueWriter> writer_;
  std::unique_ptr<LogWriter> logs_;
  std::unique_ptr<Statement> at_or_after_issue_, at_or_after_comment_, at_or_after_history_;
  std::string subject_;
  ChangeReport report_;
};

// Runs `body` in one write transaction on an existing database with foreign keys enforced.
template <typename T, typename Body>
Result<T> InWriteTransaction(const std::string& db_path, Body body) {
  LB_RETURN_IF_ERROR(CheckExists(db_path));
  LB_ASSIGN_OR_RETURN(auto db, Connection::Open(db_path, /*create=*/false));
  LB_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON", "enforce foreign keys"));
  LB_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE", "begin a write transaction"));
  Result<T> result = body(db.get());
  if (!result.ok()) {
    db->Exec("ROLLBACK", "roll back").IgnoreError();
    return result;
  }
  LB_RETURN_IF_ERROR(db->Exec("COMMIT", "commit"));
  return result;
}

std::string TomlString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  std::string text = absolute.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

Result<BadUpgradeReport> SimulateBadUpgrade(const std::string& db_path,
                                            const std::string& attachments_dir,
                                            const std::string& new_version) {
  if (new_version.empty()) {
    return InvalidArgumentError("sample app database " + db_path +
                                ": simulate an upgrade: the new version is empty");
  }
  return InWriteTransaction<BadUpgradeReport>(
      db_path, [&](Connection* db) { return BreakUpgrade(db, attachments_dir, new_version); });
}

Result<ChangeReport> ApplyRealisticChange(const std::string& db_path,
                                          const std::string& attachments_dir, double fraction,
                                          uint64_t seed) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", fraction);
    return InvalidArgumentError("sample app database " + db_path + ": apply changes: fraction " +
                                text + " is outside (0, 1]");
  }
  return InWriteTransaction<ChangeReport>(
      db_path, [&](Connection* db) { return Changer(db, attachments_dir, seed).Run(fraction); });
}

std::string SampleAppProfileToml(const std::string& db_path, const std::string& attachments_dir,
                                 const std::string& repo_dir) {
  std::string toml;
  toml += "# Lifeboat configuration for the sample issue tracker.\n";
  toml += "repository = " + TomlString(AbsolutePath(repo_dir)) + "\n";
  toml += "restore_window = \"7d\"\n\n";
  toml += "[profile.tracker]\n";
  toml += "version_query = \"SELECT value FROM trk_app_settings WHERE key = 'schema_version'\"\n";
  toml += "include = [\"trk_*\"]\n";
  toml += "exclude = [\"trk_log*\", \"trk_debug_*\", \"trk_search_cache\"]\n";
  toml +=
      "metadata = [\"trk_business_areas\", \"trk_projects\", \"trk_fields\", \"trk_layouts\", "
      "\"trk_rules\", \"trk_reports\"]\n";
  toml += "large_table_bytes = \"8MiB\"\n";
  toml += "large_tables = \"ask\"\n\n";
  toml += "[instance.prod]\n";
  toml += "profile = \"tracker\"\n";
  toml += "account = \"acme\"\n";
  toml += "database = " + TomlString("sqlite://" + AbsolutePath(db_path)) + "\n";
  toml += "files = " + TomlString(AbsolutePath(attachments_dir)) + "\n";
  return toml;
}

}  // namespace lifeboat

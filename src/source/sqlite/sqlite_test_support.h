// Helpers for the SQLite driver's tests: a temporary directory, direct SQL through the C
// API, the sqlite3 command-line shell's `.dump`, and an exact dump that shows every stored
// byte and type (the shell's `.dump` prints text only up to a NUL byte and prints -0.0 as
// 0.0, so equality of `.dump` alone would miss those).
//
// Header-only and included by *_test.cc files only. Failures abort the test (ADD_FAILURE /
// ASSERT inside void helpers).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"

namespace lifeboat::sqlite_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lifeboat-sqlite-XXXXXX");
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// An open connection for setting up and inspecting test databases.
class TestDb {
 public:
  explicit TestDb(const std::string& path) {
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
  }
  ~TestDb() { sqlite3_close_v2(db_); }
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;
  sqlite3* get() const { return db_; }

  // Runs `sql`, expecting success.
  void Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  // Runs `sql` and returns its result code (for expected failures).
  int TryExec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // Runs one statement with parameters bound as BLOB (b:), TEXT (t:), REAL (r:) or INTEGER.
  struct Param {
    enum Kind { kInt, kReal, kText, kBlob, kNull } kind;
    int64_t i = 0;
    double r = 0;
    std::string s;
  };
  static Param Int(int64_t v) { return {Param::kInt, v, 0, ""}; }
  static Param Real(double v) { return {Param::kReal, 0, v, ""}; }
  static Param Text(std::string v) { return {Param::kText, 0, 0, std::move(v)}; }
  static Param Blob(std::string v) { return {Param::kBlob, 0, 0, std::move(v)}; }
  static Param Null() { return {Param::kNull, 0, 0, ""}; }
  void Run(const std::string& sql, const std::vector<Param>& params) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    for (size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i) + 1;
      const Param& p = params[i];
      switch (p.kind) {
        case Param::kInt: sqlite3_bind_int64(stmt, index, p.i); break;
        case Param::kReal: sqlite3_bind_double(stmt, index, p.r); break;
        case Param::kText:
          sqlite3_bind_text64(stmt, index, p.s.data(), p.s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
          break;
        case Param::kBlob:
          sqlite3_bind_blob64(stmt, index, p.s.data(), p.s.size(), SQLITE_TRANSIENT);
          break;
        case Param::kNull: sqlite3_bind_null(stmt, index); break;
      }
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }
  // The first column of the first row as text ("" when there is none).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    std::string out;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) {
        out.assign(reinterpret_cast<const char*>(text),
                   static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
      }
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The output of `sqlite3 -batch <db> <command>` (the Debian sqlite3 shell).
inline std::string Shell(const std::string& db, const std::string& command) {
  std::string line = "/usr/bin/sqlite3 -batch '" + db + "' '" + command + "' 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  if (pipe == nullptr) return "";
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int rc = ::pclose(pipe);
  EXPECT_EQ(rc, 0) << line << "\n" << out.substr(0, 2000);
  return out;
}

inline std::string Dump(const std::string& db) {
  return Shell(db, ".dump");
}
inline std::string DumpWithRowids(const std::string& db) {
  return Shell(db, ".dump --preserve-rowids");
}

// Every table's rows with each value's storage class and exact bytes (REAL as its bit
// pattern), plus the schema (type, name, table, sql) sorted by type and name.
inline std::string ExactDump(const std::string& path) {
  TestDb db(path);
  std::string out;
  std::vector<std::string> tables;
  {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db.get(),
                       "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name",
                       -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < 4; ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        out += text != nullptr ? reinterpret_cast<const char*>(text) : "<null>";
        out += i < 3 ? " | " : "\n";
      }
      std::string type = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      if (type == "table")
        tables.push_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
    }
    sqlite3_finalize(stmt);
  }
  for (const std::string& table : tables) {
    std::string quoted = "\"";
    for (char c : table) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    quoted += '"';
    // Rowid tables show their rowid (under whichever alias no column takes).
    std::vector<std::string> columns;
    {
      sqlite3_stmt* info = nullptr;
      sqlite3_prepare_v2(db.get(), "SELECT lower(name) FROM pragma_table_xinfo(?1)", -1, &info,
                         nullptr);
      sqlite3_bind_text(info, 1, table.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(info) == SQLITE_ROW) {
        columns.push_back(reinterpret_cast<const char*>(sqlite3_column_text(info, 0)));
      }
      sqlite3_finalize(info);
    }
    std::string sql = "SELECT * FROM " + quoted;
    for (const char* alias : {"rowid", "oid", "_rowid_"}) {
      if (std::find(columns.begin(), columns.end(), alias) != columns.end()) continue;
      std::string probe = "SELECT " + std::string(alias) + " FROM " + quoted + " LIMIT 0";
      sqlite3_stmt* test = nullptr;
      if (sqlite3_prepare_v2(db.get(), probe.c_str(), -1, &test, nullptr) == SQLITE_OK) {
        sql = "SELECT " + std::string(alias) + ", * FROM " + quoted + " ORDER BY 1";
      }
      sqlite3_finalize(test);
      break;
    }
    out += "table " + table + "\n";
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_NULL: out += "null"; break;
          case SQLITE_INTEGER: out += "int:" + std::to_string(sqlite3_column_int64(stmt, i)); break;
          case SQLITE_FLOAT: {
            uint64_t bits = std::bit_cast<uint64_t>(sqlite3_column_double(stmt, i));
            std::string raw(reinterpret_cast<const char*>(&bits), 8);
            out += "real:" + ToHex(raw);
            break;
          }
          case SQLITE_TEXT: {
            const unsigned char* text = sqlite3_column_text(stmt, i);
            int n = sqlite3_column_bytes(stmt, i);
            std::string bytes(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
            out += "text:" + std::to_string(n) + ":" +
                   (n > 256 ? std::to_string(std::hash<std::string>()(bytes)) : ToHex(bytes));
            break;
          }
          case SQLITE_BLOB: {
            const void* blob = sqlite3_column_blob(stmt, i);
            int n = sqlite3_column_bytes(stmt, i);
            std::string bytes(blob != nullptr ? static_cast<const char*>(blob) : "",
                              static_cast<size_t>(n));
            out += "blob:" + std::to_string(n) + ":" +
                   (n > 256 ? std::to_string(std::hash<std::string>()(bytes)) : ToHex(bytes));
            break;
          }
        }
        out += i + 1 < sqlite3_column_count(stmt) ? ", " : "\n";
      }
    }
    sqlite3_finalize(stmt);
  }
  return out;
}

}  // namespace lifeboat::sqlite_test

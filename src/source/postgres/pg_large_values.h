// Reading a PostgreSQL table whose rows hold large values without holding any value whole.
//
// libpq delivers a COPY row, or a row of a query result, in one piece: a row with a 500 MB
// bytea needs 1 GB of memory in the client (hex). So a table that has values over
// `value_bytes` in columns of type bytea, text or varchar (or domains over them) is read
// differently: through a cursor whose query replaces those values by NULL and flags them, in
// batches of rows; each flagged value is then fetched in slices of `slice_bytes`
// (`substring` on the row, found by its tableoid and ctid in the same snapshot), and every
// field is escaped the way COPY's text format escapes it. The bytes written are exactly those
// `COPY table TO STDOUT` writes (FORMAT.md section 8.1), in the same physical order.
//
// Whether a table needs this is decided cheaply: a table whose TOAST relation is empty holds
// no value over 2 KB; otherwise one scan of the heap (octet_length reads only the TOAST
// pointer) looks for a value over the limit.
//
// Thread-safety: one connection, one thread. Errors: the connection's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_stream.h"
#include "base/cancellation.h"
#include "source/postgres/pg_catalog.h"
#include "source/postgres/pg_connection.h"
#include "source/source.h"

namespace lifeboat {

struct PgLargeValueLimits {
  // Values above this are fetched in slices. Below it COPY is faster (about twice as fast on 4
  // MiB values: one detoast and one hex conversion per value, streamed), and holds at most a
  // row of such values (twice, hex) per reader.
  uint64_t value_bytes = uint64_t{8} << 20;
  uint64_t slice_bytes = uint64_t{1} << 20;  // bytes (bytea) or characters (text) per slice
  uint64_t batch_bytes = uint64_t{8} << 20;  // rows fetched at once, by their observed size
};

// Appends `value` escaped as COPY's text format writes a field: backslash, and the control
// characters \b \f \n \r \t \v, as two-character escapes; every other byte as it is.
void AppendCopyText(std::string_view value, std::string* out);

// A column whose values may be fetched in slices.
struct PgSlicedColumn {
  size_t index = 0;    // in the stored columns
  bool bytea = false;  // bytea through any domains (else text or varchar)
};

// The stored columns (`columns`, in order) of `table` whose type lets one value exceed the
// limit, when at least one value does; empty otherwise.
Result<std::vector<PgSlicedColumn>> FindLargeValueColumns(PgConnection* conn, const PgTable& table,
                                                          const std::vector<ColumnInfo>& columns,
                                                          const PgLargeValueLimits& limits);

// Writes the table's rows to `out` as COPY text of its stored `columns`, fetching the values
// of `sliced` that exceed the limit in slices. Called inside the snapshot's transaction.
Result<TableStreamStats> StreamTableWithLargeValues(
    PgConnection* conn, const PgTable& table, const std::vector<ColumnInfo>& columns,
    const std::vector<PgSlicedColumn>& sliced, const PgLargeValueLimits& limits, ByteSink* out,
    CancellationToken* cancel, uint64_t progress_rows,
    const std::function<void(const TableStreamStats&)>& on_progress);

}  // namespace lifeboat

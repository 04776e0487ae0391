// RunOnWorkers: items handed out in order to a fixed set of workers (reader snapshots, table
// loaders, database connections), each worker taking the next item as soon as it is free.
//
// Worker 0 is the calling thread; workers 1..n-1 get a thread each for the duration of the
// call. The first error stops every worker from starting another item (items already started
// run to their end) and is what the call returns.
//
// Thread-safety: `work` is called concurrently, once per item, from up to `workers` threads.
#pragma once

#include <cstddef>
#include <functional>

#include "lifeboat/status.h"

namespace lifeboat {

Status RunOnWorkers(size_t workers, size_t items,
                    const std::function<Status(size_t worker, size_t item)>& work);

}  // namespace lifeboat

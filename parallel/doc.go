// Package parallel runs N lanes, keeping per-partition-key order and a
// watermark.
//
// It holds the two pure parts of Lambda's ParallelizationFactor for one
// shard: [Lane], which sends every record of a partition key to the same of
// N lanes, and [Watermark], which finds the checkpoint when lanes finish
// records out of shard order. Neither starts a goroutine nor reads a clock;
// the goroutines that run the lanes belong to the caller.
//
// # Lanes
//
// Lane hashes a partition key as Kinesis does to pick a shard (MD5, read as
// a 128-bit integer) and takes it modulo N. Records of one key therefore
// always share a lane while N is unchanged, and a lane that runs one batch
// at a time hands a key's records to the handler in sequence order.
// Records on different lanes are handled in no particular order relative to
// each other; only the checkpoint still follows shard order.
//
// # Watermark
//
// A shard may be checkpointed at sequence number S only when every record
// up to S is finished: processed, filtered out, or discarded to the
// on-failure destination or by policy. Watermark tracks this across lanes.
// Records are registered in shard order as they are read, and each lane
// finishes its own records in its own order, any number at a time; the
// checkpoint is the latest record that is finished together with everything
// before it. A failing lane that retries holds the checkpoint at its oldest
// unfinished record while the other lanes go on; after a crash, processing
// resumes from there and records other lanes had finished are delivered
// again, which is at-least-once.
//
// # Wiring in esm
//
// Per shard, with N = ParallelizationFactor (N = 1 is the same code with
// one lane, and Lane does not hash):
//
//  1. One reader polls the shard, as now. The supervisor converts each
//     page's records once and, in shard order, calls [Watermark.Skip] for a
//     record the filter drops, or lane := Lane(key, N) and
//     [Watermark.Register](lane, seq) for the rest, which it then appends to
//     lane's batcher. The supervisor owns all N batchers, so batching
//     windows stay in its one select loop (one timer at the earliest
//     deadline).
//  2. Each lane is a goroutine with at most one batch in flight: the
//     supervisor Takes a ready batch of an idle lane and hands it over; the
//     lane invokes, retries, bisects and discards (retry package), and after
//     every finished prefix (a success, the records before a reported item
//     failure, an expired prefix, a bisected half, a discarded range) calls
//     [Watermark.Finish](lane, k). When Finish reports that the checkpoint
//     moved, the lane wakes the checkpointer with a non-blocking send on a
//     channel of capacity 1. When the batch is done, the lane tells the
//     supervisor, which calls StartWindow on that lane's batcher (Lambda
//     starts the next window when an invocation completes).
//  3. One checkpointer goroutine waits for a wake-up, calls
//     [Watermark.Checkpoint] and, if it moved, saves it. Wake-ups that
//     arrive during a slow save collapse into one, so saves coalesce and
//     never hold up a lane. Lanes never save: the Store must not see
//     positions out of order.
//  4. Read-ahead is bounded twice: the supervisor stops receiving pages
//     while any lane's batcher holds a full read-ahead, and while
//     [Watermark.Pending] is at a limit (say N × read-ahead). The second
//     bound matters when one lane is stuck retrying and no new records hash
//     to it: the other lanes would otherwise run ahead of the checkpoint
//     without end.
//
// Teardown, in order: stop the reader, so no more records are registered;
// drain the lanes (flush each batcher, wait for in-flight batches, bounded
// by the shutdown timeout) or abandon them, so their last Finish calls
// happen; then stop the checkpointer after one final Checkpoint and save,
// which therefore sees every Finish; then release the lease.
//
// # End of a shard
//
// When the reader returns the shard's end, the supervisor stops reading,
// flushes every lane's batcher regardless of its window, and waits until
// every lane is idle and Pending is 0. Checkpoint is then the shard's last
// record (or the last filtered one), and the supervisor saves it with the
// end marker, after which the shard's children may start. A lane stuck
// retrying delays the end marker, as it does in Lambda.
//
// # Changing N
//
// Most keys change lanes when N changes, so a key's next record could
// otherwise be handed to its new lane while an earlier one is unfinished on
// its old lane. The supervisor therefore stops routing, drains as at the
// shard's end (every lane idle, Pending 0), and starts N' lanes hashing
// with Lane(key, N'). The Watermark carries on unchanged: when Pending is 0
// it holds no per-lane state but the mark.
package parallel

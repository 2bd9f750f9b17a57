// Package shard finds a stream's shards, orders parents before children, and
// reads them.
//
// # Discovery
//
// [List] pages through ListShards and returns every shard, open or closed.
// [NewGraph] turns that list into the parent/child lineage: a child may be
// read only when every parent it names has been read to its end (or has
// expired from the stream), which is how per-key order survives resharding.
//
// # Reading
//
// A [Poller] reads one shard with GetShardIterator and GetRecords. It keeps
// its place across expired iterators, backs off on throttling and service
// errors and re-reads the same position, and paces itself: while the shard is
// behind it polls again at once (within a configurable per-shard call rate),
// and once caught up it waits the poll interval.
//
// A [Subscriber] reads one shard through an enhanced fan-out consumer with
// SubscribeToShard, renewing the subscription every five minutes and after
// errors from just after the last record it returned, so pages have no gap
// and no duplicate. Both satisfy [Reader]. Use one Subscriber per shard for
// its whole life: Kinesis refuses a new subscription within 5 s of the last.
package shard

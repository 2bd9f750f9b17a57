package runner

// Contender is one consumer under test: a main package of this module that
// runs the consumer through internal/harness.
type Contender struct {
	Name     string // as the tables show it
	Pkg      string // main package, relative to the module root
	Settings string // how it is configured, for RESULTS.md
}

// Contenders are run in this order in the first round; later rounds rotate
// it, so that no contender always runs first or right after another.
var Contenders = []Contender{
	{
		Name: "esmkit",
		Pkg:  "./contenders/esmkit",
		Settings: "esm.Mapping, no-op handler, real *kinesis.Client (GetRecords decoded by kinesisfast, the default). Throughput: StartingPosition TRIM_HORIZON, " +
			"BatchSize 10000, ReadRateLimit(0), other options default (PollInterval 1 s, ParallelizationFactor 1, in-memory " +
			"checkpoint after every batch). Latency: PollInterval 200 ms, ReadRateLimit default (5/s per shard).",
	},
	{
		Name: "sdk-loop",
		Pkg:  "./contenders/sdkloop",
		Settings: "aws-sdk-go-v2 alone: ListShards, GetShardIterator TRIM_HORIZON, GetRecords Limit 10000 in a loop, one goroutine " +
			"per shard; after an empty or caught-up page (MillisBehindLatest 0) it sleeps 200 ms; throttled calls wait 200 ms; no checkpoints.",
	},
	{
		Name: "harlow",
		Pkg:  "./contenders/harlow",
		Settings: "github.com/harlow/kinesis-consumer v0.3.6 (newest served by the module proxy here; aws-sdk-go-v2): Scan with a " +
			"per-record no-op callback, default no-op store/counter/logger, WithShardIteratorType(TRIM_HORIZON), WithMaxRecords(10000). " +
			"Its ticker waits the scan interval (default 250 ms) between successive GetRecords calls even after a full page: throughput " +
			"runs set WithScanInterval(1 ms) (no wait, like ReadRateLimit(0)); latency runs WithScanInterval(200 ms).",
	},
	{
		Name: "vmware-kcl",
		Pkg:  "./contenders/kcl",
		Settings: "github.com/vmware/vmware-go-kcl-v2 v1.0.0 (newest served here): polling worker, TRIM_HORIZON, MaxRecords 10000, " +
			"in-memory Checkpointer (WithCheckpointer; its own needs DynamoDB), checkpoint after every batch, discarding logger, no metrics, " +
			"ShardSyncIntervalMillis 10 (default 60 s; it takes one new lease per sync loop), IdleTimeBetweenReadsInMillis 200 " +
			"(default 1000). Not configurable: it enforces 5 GetRecords/s and 2 MB/s per shard on the client side, so its throughput " +
			"against an unthrottled endpoint is capped by design.",
	},
	{
		Name: "sdk-convert",
		Pkg:  "./contenders/sdkconvert",
		Settings: "sdk-loop, plus converting every page into the []events.KinesisEventRecord a handler would get, with esmkit's own " +
			"conversion (internal/event.ConvertPage: a fresh array per page, the page's eventIDs and partition keys copied into one " +
			"string), then dropping it: no batching, no handler call, no checkpoint. A reference, not a consumer: the least a consumer " +
			"that hands aws-lambda-go events to a handler must add to the raw loop, so its ratio to sdk-loop bounds esmkit-sdk's.",
	},
	{
		Name:     "esmkit-sdk",
		Pkg:      "./contenders/esmkitsdk",
		Settings: "esmkit as above with esm.FastDecode(false): GetRecords decoded by the SDK's standard decoder instead of kinesisfast.",
	},
}

// Skipped are contenders the brief named that this harness does not run,
// and why; RESULTS.md lists them.
var Skipped = []struct{ Name, Reason string }{
	{
		Name: "github.com/twitchscience/kinsumer",
		Reason: "not installable here: it has no tagged release and the Go module proxy this machine reaches refuses " +
			"its @latest and @master queries (403). It also keeps client registry, checkpoints and metadata in three " +
			"DynamoDB tables (no in-memory option) and uses aws-sdk-go v1.",
	},
}

// Package testserver starts local AWS-compatible servers for integration tests.
//
// # Use
//
// A test package that needs a server calls [Main] from TestMain, then asks for
// an endpoint in the test:
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }
//
//	func TestRead(t *testing.T) {
//		client := testserver.KinesisClient(t, testserver.Kinesis(t))
//		…
//	}
//
// Each function ([Kinesis], [KinesisMock], [KinesisMockTLS], [Dynamo], [SQS],
// [SNS], [S3]) returns the endpoint of one server. If its environment variable
// (TEST_KINESIS_ENDPOINT, TEST_KINESIS_EFO_ENDPOINT,
// TEST_KINESIS_EFO_TLS_ENDPOINT, TEST_DYNAMODB_ENDPOINT, TEST_SQS_ENDPOINT,
// TEST_SNS_ENDPOINT, TEST_S3_ENDPOINT; the names printed by
// tools/testservers/testservers.sh env) is set, that endpoint is used as it
// is. Otherwise the server is started once per test process, from the npm
// packages in tools/testservers/node_modules, on a free loopback port, and
// shared by every test in the process. Tests must therefore use their own
// stream, table and queue names.
//
// # Servers
//
//	kinesalite     Kinesis, polling API only              Kinesis
//	kinesis-local  Kinesis with resharding and fan-out    KinesisMock, KinesisMockTLS
//	dynalite       DynamoDB                               Dynamo
//	fauxqs         SQS, SNS and S3 on one port            SQS, SNS, S3
//
// What they lack, in short: kinesalite has no UpdateShardCount, no consumers
// and no StreamARN parameters (use StreamName), and its MillisBehindLatest is
// always 0; dynalite has no transactions and no UpdateTimeToLive. None of them
// throttles.
//
// # Failure, never skip
//
// If node_modules is missing or a server does not answer within
// [StartTimeout], the test fails with the command to run
// (tools/testservers/testservers.sh install, or tools/test.sh) and the tail of
// the server's log. Integration tests never skip: a skipped test in CI is a
// test that silently stopped running.
//
// # Clean-up
//
// [Main] stops every server the process started, by its process ID (and
// process group), after m.Run returns. On Linux each server is also started
// with a parent-death signal, so a test binary killed by a timeout or Ctrl-C
// does not leave node processes behind.
package testserver

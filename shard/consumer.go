package shard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/backoff"
)

// FanOutClient is the part of the Kinesis API that enhanced fan-out calls:
// SubscribeToShard for a [Subscriber], and RegisterStreamConsumer and
// DescribeStreamConsumer for [RegisterConsumer] and [WaitConsumer].
// *kinesis.Client satisfies it, and so does *kinesistest.Client.
type FanOutClient interface {
	SubscribeToShard(ctx context.Context, in *kinesis.SubscribeToShardInput, optFns ...func(*kinesis.Options)) (*kinesis.SubscribeToShardOutput, error)
	RegisterStreamConsumer(ctx context.Context, in *kinesis.RegisterStreamConsumerInput, optFns ...func(*kinesis.Options)) (*kinesis.RegisterStreamConsumerOutput, error)
	DescribeStreamConsumer(ctx context.Context, in *kinesis.DescribeStreamConsumerInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error)
}

var _ FanOutClient = (*kinesis.Client)(nil)

// Consumer is a registered enhanced fan-out consumer of a stream.
type Consumer struct {
	// ARN is arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<epoch>.
	ARN       string
	StreamARN string
	Name      string
}

// ErrNotConsumerARN is returned by [ParseConsumerARN] for a string that is
// not a Kinesis stream consumer ARN.
var ErrNotConsumerARN = errors.New("shard: not a Kinesis consumer ARN")

// ParseConsumerARN splits a consumer ARN, as Lambda's EventSourceArn takes
// it, into its stream ARN and consumer name. It does no I/O. A stream ARN
// or any other string gives an error wrapping [ErrNotConsumerARN].
func ParseConsumerARN(arn string) (Consumer, error) {
	bad := func() (Consumer, error) { return Consumer{}, fmt.Errorf("%w: %q", ErrNotConsumerARN, arn) }
	// arn:partition:kinesis:region:account:stream/name/consumer/cname:epoch
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "kinesis" || parts[3] == "" || parts[4] == "" {
		return bad()
	}
	res := parts[5]
	streamPart, consumerPart, ok := strings.Cut(res, "/consumer/")
	name, ok2 := strings.CutPrefix(streamPart, "stream/")
	if !ok || !ok2 || name == "" || strings.Contains(name, "/") {
		return bad()
	}
	i := strings.LastIndexByte(consumerPart, ':')
	if i <= 0 || i == len(consumerPart)-1 || strings.Contains(consumerPart[:i], "/") {
		return bad()
	}
	for _, r := range consumerPart[i+1:] {
		if r < '0' || r > '9' {
			return bad()
		}
	}
	return Consumer{
		ARN:       arn,
		StreamARN: strings.Join(parts[:5], ":") + ":" + streamPart,
		Name:      consumerPart[:i],
	}, nil
}

// IsConsumerARN reports whether arn is a stream consumer ARN rather than a
// stream ARN.
func IsConsumerARN(arn string) bool {
	_, err := ParseConsumerARN(arn)
	return err == nil
}

// consumerPoll is the wait between DescribeStreamConsumer calls while a
// consumer is CREATING or DELETING: Kinesis allows 20 a second per stream,
// and a consumer takes a few seconds.
const consumerPoll = 250 * time.Millisecond

// RegisterConsumer returns the consumer called name of the stream at
// streamARN, registering it if it does not exist, once it is ACTIVE. It
// waits, polling DescribeStreamConsumer, while the consumer is CREATING,
// or DELETING before registering it again, and retries throttling
// (LimitExceededException) and service errors with jittered backoff. It
// returns ctx's error when ctx is done, and Kinesis's error, wrapped, when
// the stream does not exist or the request is invalid. It is safe for
// concurrent use, also by several processes: a consumer registered by
// another at the same time is found, not registered twice.
func RegisterConsumer(ctx context.Context, client FanOutClient, streamARN, name string) (Consumer, error) {
	bo := backoff.Backoff{Initial: consumerPoll, Max: 5 * time.Second}
	registered := false
	for {
		out, err := client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{
			StreamARN: &streamARN, ConsumerName: &name,
		})
		var notFound *types.ResourceNotFoundException
		switch {
		case ctx.Err() != nil:
			return Consumer{}, ctx.Err()
		case err == nil:
			d := out.ConsumerDescription
			if d.ConsumerStatus == types.ConsumerStatusActive {
				return Consumer{ARN: deref(d.ConsumerARN), StreamARN: streamARN, Name: name}, nil
			}
			bo.Reset()
			if err := backoff.Sleep(ctx, consumerPoll); err != nil {
				return Consumer{}, err
			}
			continue
		case errors.As(err, &notFound) && !registered:
			// Register below. The stream may be missing too: then
			// RegisterStreamConsumer says so.
		case errors.As(err, &notFound):
			// Registered but not visible yet.
			if err := backoff.Sleep(ctx, consumerPoll); err != nil {
				return Consumer{}, err
			}
			continue
		case permanent(err):
			return Consumer{}, fmt.Errorf("shard: DescribeStreamConsumer %s: %w", name, err)
		default:
			if err := backoff.Sleep(ctx, bo.Next()); err != nil {
				return Consumer{}, err
			}
			continue
		}

		_, err = client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
			StreamARN: &streamARN, ConsumerName: &name,
		})
		var inUse *types.ResourceInUseException
		switch {
		case ctx.Err() != nil:
			return Consumer{}, ctx.Err()
		case err == nil, errors.As(err, &inUse):
			// Registered, by us or by someone else (or still DELETING):
			// describe again until ACTIVE.
			registered = err == nil
		case permanent(err) || errors.As(err, &notFound):
			return Consumer{}, fmt.Errorf("shard: RegisterStreamConsumer %s: %w", name, err)
		default:
			if err := backoff.Sleep(ctx, bo.Next()); err != nil {
				return Consumer{}, err
			}
		}
	}
}

// WaitConsumer returns the consumer at consumerARN once it is ACTIVE,
// polling DescribeStreamConsumer while it is CREATING and retrying
// throttling and service errors with jittered backoff. A consumer that does
// not exist, or is DELETING, is an error wrapping Kinesis's
// (*types.ResourceNotFoundException for a missing one); a string that is
// not a consumer ARN wraps [ErrNotConsumerARN]. It returns ctx's error when
// ctx is done.
func WaitConsumer(ctx context.Context, client FanOutClient, consumerARN string) (Consumer, error) {
	cons, err := ParseConsumerARN(consumerARN)
	if err != nil {
		return Consumer{}, err
	}
	bo := backoff.Backoff{Initial: consumerPoll, Max: 5 * time.Second}
	for {
		out, err := client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &consumerARN})
		var notFound *types.ResourceNotFoundException
		switch {
		case ctx.Err() != nil:
			return Consumer{}, ctx.Err()
		case err == nil:
			d := out.ConsumerDescription
			switch d.ConsumerStatus {
			case types.ConsumerStatusActive:
				if d.StreamARN != nil {
					cons.StreamARN = *d.StreamARN
				}
				return cons, nil
			case types.ConsumerStatusDeleting:
				return Consumer{}, fmt.Errorf("shard: consumer %s is DELETING", consumerARN)
			}
			err = backoff.Sleep(ctx, consumerPoll)
		case permanent(err) || errors.As(err, &notFound):
			return Consumer{}, fmt.Errorf("shard: DescribeStreamConsumer %s: %w", consumerARN, err)
		default:
			err = backoff.Sleep(ctx, bo.Next())
		}
		if err != nil {
			return Consumer{}, err
		}
	}
}

// permanent reports whether err is a Kinesis error that retrying the same
// request cannot fix.
func permanent(err error) bool {
	var (
		invalid    *types.InvalidArgumentException
		validation *types.ValidationException
		denied     *types.AccessDeniedException
	)
	return errors.As(err, &invalid) || errors.As(err, &validation) || errors.As(err, &denied)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

package lambdainvoketest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/esmkit/esmkit/lambdainvoke/lambdainvoketest"
)

// echo answers with the payload it got.
type echo struct{}

func (echo) Invoke(_ context.Context, p []byte) ([]byte, error) { return p, nil }

func TestServer(t *testing.T) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	srv.AddFunction("echo", echo{})
	client := srv.Client()
	tests := []struct {
		name        string
		in          lambda.InvokeInput
		wantCode    string // error code; "" for success
		wantVersion string
	}{
		{name: "name", in: lambda.InvokeInput{FunctionName: aws.String("echo")}, wantVersion: "$LATEST"},
		{name: "ARN with version", in: lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:echo:3")}, wantVersion: "3"},
		{name: "partial ARN, alias qualifier", in: lambda.InvokeInput{FunctionName: aws.String("123456789012:function:echo"), Qualifier: aws.String("live")}, wantVersion: "1"},
		{name: "same qualifier twice", in: lambda.InvokeInput{FunctionName: aws.String("echo:4"), Qualifier: aws.String("4")}, wantVersion: "4"},
		{name: "conflicting qualifiers", in: lambda.InvokeInput{FunctionName: aws.String("echo:4"), Qualifier: aws.String("5")}, wantCode: "InvalidParameterValueException"},
		{name: "unknown function", in: lambda.InvokeInput{FunctionName: aws.String("nope")}, wantCode: "ResourceNotFoundException"},
		{name: "asynchronous", in: lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent}, wantCode: "InvalidParameterValueException"},
		{name: "not JSON", in: lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte("{")}, wantCode: "InvalidRequestContentException"},
		{name: "too large", in: lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`"` + strings.Repeat("x", lambdainvoketest.MaxPayload-2) + `"`)}, wantCode: "RequestTooLargeException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Payload == nil {
				tc.in.Payload = []byte(`{"a":1}`)
			}
			out, err := client.Invoke(context.Background(), &tc.in)
			if tc.wantCode != "" {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
					t.Fatalf("got %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Payload) != string(tc.in.Payload) || aws.ToString(out.ExecutedVersion) != tc.wantVersion || out.StatusCode != http.StatusOK || out.FunctionError != nil {
				t.Errorf("got payload %s, version %q, status %d, function error %v; want %s, %q, 200, none",
					out.Payload, aws.ToString(out.ExecutedVersion), out.StatusCode, aws.ToString(out.FunctionError), tc.in.Payload, tc.wantVersion)
			}
		})
	}
}

func TestServerFailNext(t *testing.T) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	srv.AddFunction("echo", echo{})
	srv.FailNext(1, lambdainvoketest.TooManyRequests())
	srv.FailNext(2, lambdainvoketest.ServiceException())
	client := srv.Client()
	var got []string
	for range 4 {
		_, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte("{}")})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			got = append(got, ae.ErrorCode())
		} else if err != nil {
			t.Fatal(err)
		} else {
			got = append(got, "ok")
		}
	}
	if want := "TooManyRequestsException ServiceException ServiceException ok"; strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
}

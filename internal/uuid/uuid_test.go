package uuid_test

import (
	"regexp"
	"testing"

	"github.com/esmkit/esmkit/internal/uuid"
)

var canonical = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([45])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNew(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	if m := canonical.FindStringSubmatch(a); m == nil || m[1] != "4" {
		t.Errorf("New() = %q, want a version 4 UUID", a)
	}
	if a == b {
		t.Errorf("New() returned %q twice", a)
	}
}

func TestFromName(t *testing.T) {
	a := uuid.FromName("arn:aws:kinesis:us-east-1:123456789012:stream/s")
	if m := canonical.FindStringSubmatch(a); m == nil || m[1] != "5" {
		t.Errorf("FromName = %q, want a version 5 UUID", a)
	}
	if b := uuid.FromName("arn:aws:kinesis:us-east-1:123456789012:stream/s"); a != b {
		t.Errorf("FromName not stable: %q then %q", a, b)
	}
	if c := uuid.FromName("other"); c == a {
		t.Errorf("FromName gave %q for two names", c)
	}
}

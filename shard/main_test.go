package shard_test

import (
	"os"
	"testing"

	"github.com/esmkit/esmkit/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

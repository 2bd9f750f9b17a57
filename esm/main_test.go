package esm_test

import (
	"os"
	"testing"

	"github.com/esmkit/esmkit/internal/testserver"
)

// TestMain stops the local servers that the real-server tests start.
func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

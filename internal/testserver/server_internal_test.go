package testserver

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartFailureMessage checks that a server that is not installed fails
// with the command to run.
func TestStartFailureMessage(t *testing.T) {
	s := &server{name: "missing", script: "no-such-package/cli.js", ports: 1}
	_, err := s.start()
	if err == nil {
		t.Fatal("got nil error for a server that is not installed")
	}
	for _, want := range []string{"missing is not installed", "tools/testservers/testservers.sh install", "./tools/test.sh"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	}
}

// TestStartFailureLog checks that a server that exits during start-up fails
// quickly with the tail of its output.
func TestStartFailureLog(t *testing.T) {
	s := &server{name: "broken", script: "kinesalite/cli.js", ports: 1,
		command: func(string, []int) ([]string, []string) {
			return []string{"-e", "console.error('boom: bad flag'); process.exit(3)"}, nil
		}}
	start := time.Now()
	_, err := s.start()
	if err == nil {
		t.Fatal("got nil error for a server that exits at once")
	}
	if !strings.Contains(err.Error(), "boom: bad flag") || !strings.Contains(err.Error(), "exited during start-up") {
		t.Errorf("got error %q, want the exit and the server's output", err)
	}
	if d := time.Since(start); d > StartTimeout/2 {
		t.Errorf("took %v to notice the exit, want well under %v", d, StartTimeout)
	}
}

// TestStop checks that stop ends the server process by its pid.
func TestStop(t *testing.T) {
	s := &server{name: kinesalite.name, script: kinesalite.script, ports: 1, command: kinesalite.command}
	if _, err := s.start(); err != nil {
		t.Fatal(err)
	}
	p := lastProcess(t)
	pid := p.cmd.Process.Pid
	p.stop()
	if !p.exited() {
		t.Fatalf("process %d still running after stop", pid)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("got kill(%d, 0) = %v, want ESRCH", pid, err)
	}
}

func lastProcess(t *testing.T) *process {
	t.Helper()
	procsMu.Lock()
	defer procsMu.Unlock()
	if len(procs) == 0 {
		t.Fatal("no process recorded")
	}
	return procs[len(procs)-1]
}

package testserver

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParentDeath (Linux only: it tests Pdeathsig) checks that a test binary killed without running Main's
// clean-up leaves no server behind: the child test process starts
// kinesalite, prints its pid and is killed with SIGKILL.
func TestParentDeath(t *testing.T) {
	if os.Getenv("TESTSERVER_PARENT_DEATH_CHILD") == "1" {
		s := &server{name: kinesalite.name, script: kinesalite.script, ports: 1, command: kinesalite.command}
		if _, err := s.start(); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("PID " + strconv.Itoa(lastProcess(t).cmd.Process.Pid) + "\n")
		select {} // wait to be killed
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestParentDeath$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTSERVER_PARENT_DEATH_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 0, 256)
	pid := 0
	deadline := time.Now().Add(StartTimeout)
	for pid == 0 && time.Now().Before(deadline) {
		var b [64]byte
		n, err := out.Read(b[:])
		buf = append(buf, b[:n]...)
		if i := strings.Index(string(buf), "PID "); i >= 0 {
			if j := strings.IndexByte(string(buf[i:]), '\n'); j > 0 {
				pid, _ = strconv.Atoi(string(buf[i+4 : i+j]))
			}
		}
		if err != nil {
			break
		}
	}
	if pid == 0 {
		t.Fatalf("child printed no server pid; output: %q", buf)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("server pid %d still alive 5 s after its test binary was killed", pid)
}

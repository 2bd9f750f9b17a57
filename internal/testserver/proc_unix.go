//go:build unix

package testserver

import (
	"os"
	"syscall"
)

// terminate sends SIGTERM to p's process group (p leads it: Setpgid), which
// is p's own pid, so nothing but this server and its children gets the signal.
func terminate(p *os.Process) { signalGroup(p, syscall.SIGTERM) }

// kill sends SIGKILL to p's process group.
func kill(p *os.Process) { signalGroup(p, syscall.SIGKILL) }

func signalGroup(p *os.Process, sig syscall.Signal) {
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		_ = p.Signal(sig) // the group is gone or was never made; try the pid
	}
}

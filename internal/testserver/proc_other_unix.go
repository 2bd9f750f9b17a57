//go:build unix && !linux

package testserver

import "syscall"

// sysProcAttr puts the server in its own process group. Only Linux has a
// parent-death signal, so elsewhere a killed test binary can leave a server
// running; Main stops them on a normal exit.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

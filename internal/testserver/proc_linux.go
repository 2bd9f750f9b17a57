package testserver

import "syscall"

// sysProcAttr puts the server in its own process group and asks the kernel to
// SIGKILL it when the test binary dies. Pdeathsig fires when the OS thread
// that started the child exits; the Go runtime keeps its threads alive unless
// a goroutine exits while locked with runtime.LockOSThread, which this
// package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

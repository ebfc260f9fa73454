//go:build unix

package main

import "syscall"

// fdLimit is the process's limit on open files (the soft RLIMIT_NOFILE,
// which Go raises to the hard limit at start), or 0 if unknown.
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}

//go:build unix

package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeTerminal moves the process into a process group of its own and makes
// that the terminal's foreground group, so that Ctrl-C reaches broadsheet
// alone. `make run` asks for it (BROADSHEET_TAKE_TERMINAL=1): otherwise the
// terminal interrupts make too, which then exits 130 however cleanly
// broadsheet stopped. The returned function gives the terminal back to the
// group it was taken from; call it before exiting. Off a terminal it does
// nothing.
func takeTerminal() (giveBack func()) {
	fd := int(os.Stdin.Fd())
	prev, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return func() {}
	}
	if err := syscall.Setpgid(0, 0); err != nil {
		return func() {}
	}
	// A background group that sets the foreground group gets SIGTTOU,
	// which would stop it.
	signal.Ignore(syscall.SIGTTOU)
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, syscall.Getpgrp()); err != nil {
		signal.Reset(syscall.SIGTTOU)
		return func() {}
	}
	// Ctrl-Z would stop broadsheet alone, with make still waiting on it
	// in the shell's foreground: a terminal that answers nothing. It says
	// so instead.
	tstp := make(chan os.Signal, 1)
	signal.Notify(tstp, syscall.SIGTSTP)
	go func() {
		for range tstp {
			fmt.Fprintln(os.Stderr, "\nbroadsheet: Ctrl-Z does not suspend `make run`; Ctrl-C stops it (or run bin/broadsheet run yourself)")
		}
	}()
	return func() {
		signal.Stop(tstp)
		unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, prev)
		signal.Reset(syscall.SIGTTOU)
	}
}

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startProfiles writes a CPU profile to $BROADSHEET_CPUPROFILE and a heap
// profile (live objects after a GC, and allocations) to
// $BROADSHEET_HEAPPROFILE, for bench/scale: when the command ends, or, if
// $BROADSHEET_HEAPPROFILE_AFTER is a duration, that long after start (what a
// running daemon holds). Unset, it does nothing. The returned func writes
// and closes them; a profile that cannot be written is reported on stderr
// and does not change the command's outcome.
func startProfiles() func() {
	cpu, heap := os.Getenv("BROADSHEET_CPUPROFILE"), os.Getenv("BROADSHEET_HEAPPROFILE")
	if after, err := time.ParseDuration(os.Getenv("BROADSHEET_HEAPPROFILE_AFTER")); err == nil && heap != "" {
		path := heap
		time.AfterFunc(after, func() { writeHeap(path) })
		heap = ""
	}
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "broadsheet: BROADSHEET_CPUPROFILE: %v\n", err)
		} else {
			cpuFile = f
		}
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if heap != "" {
			writeHeap(heap)
		}
	}
}

func writeHeap(path string) {
	f, err := os.Create(path)
	if err == nil {
		runtime.GC()
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "broadsheet: BROADSHEET_HEAPPROFILE: %v\n", err)
	}
}

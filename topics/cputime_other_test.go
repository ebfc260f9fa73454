//go:build !unix

package topics

import "time"

// cpuTime is not measured here; the benchmark then shows wall time only.
func cpuTime() time.Duration { return 0 }

//go:build race

package e2e

// raceEnabled is true when the race detector is on: it slows the SQLite
// driver (C translated to Go) some fifty times, so the corpus test then
// ingests a sample.
const raceEnabled = true

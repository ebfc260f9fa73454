// Package e2e holds end-to-end tests of the ingest path as the daemon wires
// it: feeds served over loopback HTTP, fetched by fetch.Client through a
// feeds.Poller into the SQLite store, then republished by publish and
// mailed by digest. It has no code of its own; its tests are the point.
package e2e

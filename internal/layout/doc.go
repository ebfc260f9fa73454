// Package layout checks the package graph against STYLE.md's Layout: each
// package imports only what its entry there lists. It has no code of its
// own; its test is the point.
package layout

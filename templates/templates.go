// Package templates holds the default digest templates, embedded in the
// binary so that broadsheet mails well-formed digests with no files beside
// it. A user overrides any of them by putting a file of the same name in the
// folder named by `templates:` in config.yaml; package digest parses them.
//
// The files are:
//
//	digest.html  the HTML part (html/template)
//	digest.txt   the plain-text part (text/template)
//	subject.txt  the subject line (text/template), unless a digest sets subject:
//
// The data and functions they receive are documented on digest.Data.
package templates

import "embed"

// FS holds the default templates at its root.
//
//go:embed digest.html digest.txt subject.txt
var FS embed.FS

package config

import (
	"fmt"
	"strings"
)

// expandError is a problem with one ${...} reference; offset is its byte
// offset in the string being expanded, for the column.
type expandError struct {
	offset int
	msg    string
}

// expand replaces ${VAR} and ${VAR:-default} with values from env and $$
// with a single $. A $ followed by anything else is kept as it is, so a
// literal price or password with a lone $ needs no escaping. The default is
// used when VAR is unset or empty; it is taken literally, up to the first }.
// Every bad or unset reference is reported.
func expand(s string, env func(string) (string, bool)) (string, []expandError) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var (
		b    strings.Builder
		errs []expandError
	)
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			errs = append(errs, expandError{i, fmt.Sprintf("%q has a ${ without its closing }: write ${NAME}, or $$ for a literal $", s)})
			b.WriteString(s[i:])
			break
		}
		ref := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		switch {
		case !validEnvName(name):
			errs = append(errs, expandError{i, fmt.Sprintf("${%s} is not a valid variable reference: use ${NAME} or ${NAME:-default}, where NAME is letters, digits and _; write $$ for a literal $", ref)})
		default:
			v, ok := env(name)
			switch {
			case ok && v != "":
				b.WriteString(v)
			case hasDef:
				b.WriteString(def)
			case ok:
				// Set but empty, without a default: empty is what was asked for.
			default:
				errs = append(errs, expandError{i, fmt.Sprintf("%s is not set in the environment: set it, or write ${%s:-default} to give a default", name, name)})
			}
		}
		i += 2 + end + 1
	}
	return b.String(), errs
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

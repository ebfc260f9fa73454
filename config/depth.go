package config

import "fmt"

// The YAML parser's memory grows with the square of a document's nesting
// (20,000 levels of "[" in 40 KB take 640 MB), so a file is measured
// before it is parsed: its size, and a conservative count of its nesting
// from the bytes alone. A real config.yaml nests about six levels.
const (
	// MaxFileBytes is the largest config file Load and Parse accept.
	MaxFileBytes = 4 << 20
	// MaxDepth is the deepest nesting of mappings and sequences they accept.
	MaxDepth = 64
)

// checkShape returns a Problem if data is larger than MaxFileBytes or
// nests deeper than MaxDepth, positioned where the limit is crossed; nil
// otherwise. The count follows indentation, "- " and "? " on one line,
// and [ { of flow collections, and skips comments, quoted scalars and
// block scalars (| and >); it may count a level too many, never too few.
func checkShape(data []byte) *Problem {
	if len(data) > MaxFileBytes {
		line, col := lineCol(data, MaxFileBytes)
		return &Problem{Line: line, Col: col, Msg: fmt.Sprintf("the file is larger than %d MiB, the most a config file may hold; is it the right file?", MaxFileBytes>>20)}
	}
	s := shapeScanner{data: data}
	if off, ok := s.scan(); !ok {
		line, col := lineCol(data, off)
		return &Problem{Line: line, Col: col, Msg: fmt.Sprintf("mappings and lists nest more than %d levels deep here; a config file needs far fewer: flatten it", MaxDepth)}
	}
	return nil
}

// lineCol is the 1-based line and column (in bytes) of offset off.
func lineCol(data []byte, off int) (line, col int) {
	line, col = 1, 1
	for _, c := range data[:min(off, len(data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

type shapeScanner struct {
	data    []byte
	i       int
	flow    int   // open [ and {
	indents []int // columns of the enclosing block lines
	quote   byte  // ' or " while inside a quoted scalar spanning lines
	block   int   // indentation of the line that began a block scalar; -1 when none
}

// scan walks the data; on the first point deeper than MaxDepth it returns
// that offset and false.
func (s *shapeScanner) scan() (int, bool) {
	s.block = -1
	for s.i < len(s.data) {
		ind := 0
		for s.i < len(s.data) && s.data[s.i] == ' ' {
			s.i++
			ind++
		}
		blank := s.i >= len(s.data) || s.data[s.i] == '\n' || s.data[s.i] == '\r' || s.data[s.i] == '#'
		if s.block >= 0 {
			if blank || ind > s.block {
				s.skipLine()
				continue
			}
			s.block = -1
		}
		if s.quote == 0 && s.flow == 0 {
			if blank {
				s.skipLine()
				continue
			}
			for len(s.indents) > 0 && s.indents[len(s.indents)-1] >= ind {
				s.indents = s.indents[:len(s.indents)-1]
			}
			s.indents = append(s.indents, ind)
			if len(s.indents) > MaxDepth {
				return s.i, false
			}
		}
		if off, ok := s.line(ind); !ok {
			return off, false
		}
	}
	return 0, true
}

func (s *shapeScanner) depth() int { return len(s.indents) + s.flow }

// line scans the rest of one line from s.i, which is at its first
// non-space byte (or inside a quoted scalar or flow collection carried
// over from the line before).
func (s *shapeScanner) line(ind int) (int, bool) {
	valueStart := s.quote == 0 && s.flow == 0
	extra := 0 // "- " and "? " opened on this line
	for s.i < len(s.data) {
		c := s.data[s.i]
		if c == '\n' {
			s.i++
			return 0, true
		}
		if s.quote != 0 {
			s.inQuote()
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
			continue
		case c == '#' && (s.i == 0 || s.data[s.i-1] == ' ' || s.data[s.i-1] == '\t'):
			s.skipLine()
			return 0, true
		case c == '\'' || c == '"':
			if s.flow > 0 || valueStart {
				s.quote = c
				s.i++
				valueStart = false
				continue
			}
		case c == '[' || c == '{':
			if s.flow > 0 || valueStart {
				s.flow++
				if s.depth()+extra > MaxDepth {
					return s.i, false
				}
				s.i++
				continue
			}
		case (c == ']' || c == '}') && s.flow > 0:
			s.flow--
			s.i++
			continue
		case c == ',' && s.flow > 0:
			s.i++
			continue
		case (c == '-' || c == '?') && s.flow == 0 && valueStart && s.spaceAt(s.i+1):
			extra++
			if s.depth()+extra > MaxDepth {
				return s.i, false
			}
			s.i++
			continue
		case (c == '|' || c == '>') && s.flow == 0 && valueStart:
			s.block = ind
			s.skipLine()
			return 0, true
		case (c == '&' || c == '!' || c == '*') && valueStart:
			// An anchor, tag or alias before a value: the value may follow.
			for s.i < len(s.data) && !s.spaceAt(s.i) {
				s.i++
			}
			continue
		}
		// Plain text: up to ": " (a key; its value may follow), to the
		// next flow indicator in a flow, or to the end of the line.
		valueStart = false
		for s.i < len(s.data) && s.data[s.i] != '\n' {
			c := s.data[s.i]
			if c == ':' && s.spaceAt(s.i+1) {
				s.i++
				valueStart = true
				break
			}
			if s.flow > 0 && (c == ',' || c == '[' || c == ']' || c == '{' || c == '}') {
				if c == ',' {
					s.i++
				}
				break
			}
			if c == '#' && s.i > 0 && (s.data[s.i-1] == ' ' || s.data[s.i-1] == '\t') {
				break
			}
			s.i++
		}
		if s.flow > 0 {
			valueStart = true
		}
	}
	return 0, true
}

// inQuote consumes quoted-scalar bytes up to the closing quote or the end
// of the line.
func (s *shapeScanner) inQuote() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		c := s.data[s.i]
		s.i++
		switch {
		case s.quote == '"' && c == '\\':
			if s.i < len(s.data) && s.data[s.i] != '\n' {
				s.i++
			}
		case c == s.quote:
			if s.quote == '\'' && s.i < len(s.data) && s.data[s.i] == '\'' {
				s.i++ // '' is a quote inside single quotes
				continue
			}
			s.quote = 0
			return
		}
	}
}

func (s *shapeScanner) skipLine() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
	if s.i < len(s.data) {
		s.i++
	}
}

func (s *shapeScanner) spaceAt(i int) bool {
	return i >= len(s.data) || s.data[i] == ' ' || s.data[i] == '\t' || s.data[i] == '\n' || s.data[i] == '\r'
}

package fetch

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maxNodes bounds the elements and attributes of the part of an XML feed
// that gofeed parses. gofeed builds a structure for each, up to about 300
// bytes for a namespaced element with its maps, so that 16 MiB of tiny
// elements took over 500 MiB of heap; 200,000 nodes, far more than the
// 1,000 items of a real feed hold, cost some 60 MiB at most.
const maxNodes = 200_000

// cutXML returns the part of an XML feed worth parsing, and how many items
// it leaves out. The part is all of data unless data has more than
// maxItems items (item or entry elements, in any namespace and case, not
// nested in another) or more than maxNodes elements and attributes before
// its last item ends. Then data is cut before the first item too many, or
// before the item in which the node budget runs out (before the element
// where it runs out, outside items), and the elements still open there are
// closed again, so that a well-formed feed stays well-formed. Items are
// never cut in half. Feed-level elements after the cut are lost with the
// items; real feeds put them first.
//
// Capping items after parsing would be too late: gofeed parses every item
// of the document first, and 16 MiB of small items took 600 MiB.
func cutXML(data []byte, maxItems, maxNodes int) (part []byte, dropped int) {
	var (
		stack     []string // open elements outside items, by name as written
		inItem    int      // depth of item elements
		items     int      // item elements seen outside items
		kept      = -1     // items before the cut; -1 while there is none
		cut       int
		closers   []string
		nodes     int
		itemStart int // offset of the current item's "<"
	)
	cutAt := func(at, keep int) {
		cut, kept = at, keep
		closers = append([]string(nil), stack...)
	}
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 || i+j+1 >= len(data) {
			break
		}
		lt := i + j
		i = lt + 1
		switch c := data[i]; {
		case c == '?', c == '!':
			end := []byte(">")
			switch {
			case c == '?':
				end = []byte("?>")
			case bytes.HasPrefix(data[i:], []byte("!--")):
				end = []byte("-->")
			case bytes.HasPrefix(data[i:], []byte("![CDATA[")):
				end = []byte("]]>")
			}
			k := bytes.Index(data[i:], end)
			if k < 0 {
				i = len(data)
				continue
			}
			i += k + len(end)
		case c == '/':
			nameEnd := i + 1
			for nameEnd < len(data) && !isSpaceOrEnd(data[nameEnd]) {
				nameEnd++
			}
			name := data[i+1 : nameEnd]
			if k := bytes.IndexByte(data[nameEnd:], '>'); k >= 0 {
				i = nameEnd + k + 1
			}
			switch {
			case inItem > 0:
				if isItem(name) {
					inItem--
				}
			case kept < 0:
				// Pop to the element closed; ignore a stray end tag.
				for k := len(stack) - 1; k >= 0; k-- {
					if stack[k] == string(name) {
						stack = stack[:k]
						break
					}
				}
			}
		case c == '_' || c == ':' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			nameEnd := i
			for nameEnd < len(data) && !isSpaceOrEnd(data[nameEnd]) {
				nameEnd++
			}
			// One for the element, one per attribute value.
			k, values := tagEnd(data, nameEnd)
			weight := 1 + values
			if k >= len(data) {
				i = len(data)
				continue
			}
			i = k + 1
			name := data[lt+1 : nameEnd]
			open := data[k-1] != '/' && !isVoid(name)
			item := isItem(name)
			if kept >= 0 {
				// Past the cut: only count the items left out.
				if item {
					if inItem == 0 {
						items++
					}
					if open {
						inItem++
					}
				}
				continue
			}
			nodes += weight
			switch {
			case inItem > 0:
				if item && open {
					inItem++
				}
				if nodes > maxNodes {
					cutAt(itemStart, items-1)
				}
			case item:
				items++
				itemStart = lt
				if items > maxItems || nodes > maxNodes {
					cutAt(lt, items-1)
				}
				if open {
					inItem = 1
				}
			case nodes > maxNodes:
				cutAt(lt, items)
			case open:
				stack = append(stack, string(name))
			}
		}
	}
	if kept < 0 {
		return data, 0
	}
	var b bytes.Buffer
	b.Grow(cut + 64)
	b.Write(data[:cut])
	for k := len(closers) - 1; k >= 0; k-- {
		b.WriteString("</" + closers[k] + ">")
	}
	return b.Bytes(), items - kept
}

// isItem reports whether an element name, with or without a prefix, is
// an RSS or RDF item or an Atom entry, in any case, as gofeed matches them.
func isItem(name []byte) bool {
	if k := bytes.LastIndexByte(name, ':'); k >= 0 {
		name = name[k+1:]
	}
	return len(name) == 4 && bytes.EqualFold(name, []byte("item")) || len(name) == 5 && bytes.EqualFold(name, []byte("entry"))
}

// cutJSON returns the part of a JSON Feed worth parsing, and how many
// items it leaves out: all of data, unless its items array has more than
// maxItems elements; then the array is cut after the first maxItems and
// the feed object closed, dropping the keys after it. Anything that is not
// a JSON object with such an array is returned whole, for the parser to
// judge.
func cutJSON(data []byte, maxItems int) (part []byte, dropped int) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return data, 0
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return data, 0
		}
		var skip json.RawMessage
		if key, _ := t.(string); !strings.EqualFold(key, "items") {
			if err := dec.Decode(&skip); err != nil {
				return data, 0
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return data, 0
		}
		n, cut := 0, int64(-1)
		for dec.More() {
			if n == maxItems {
				cut = dec.InputOffset()
			}
			// Each element is read and let go at once.
			if err := dec.Decode(&skip); err != nil {
				return data, 0
			}
			n++
		}
		if cut < 0 {
			return data, 0
		}
		part := make([]byte, 0, cut+2)
		part = append(part, data[:cut]...)
		return append(part, "]}"...), n - maxItems
	}
	return data, 0
}

// tagEnd returns the index of the '>' that ends the tag whose name ends at
// from, or len(data) if none does, skipping quoted attribute values, and the
// number of quoted values it passed.
func tagEnd(data []byte, from int) (end, values int) {
	var quote byte
	k := from
	for ; k < len(data); k++ {
		b := data[k]
		if quote != 0 {
			if b == quote {
				quote = 0
			}
			continue
		}
		if b == '"' || b == '\'' {
			quote = b
			values++
		} else if b == '>' {
			break
		}
	}
	return k, values
}

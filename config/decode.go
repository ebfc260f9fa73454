package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The decoder walks goccy's AST itself rather than calling yaml.Unmarshal,
// because the decoder stops at the first unknown key or wrong type, and a
// user should see every problem at once, each with its position and key
// path. It also records where every value came from, so that Validate can
// point at it.

// pos is a 1-based line and column in the file.
type pos struct{ line, col int }

// meta is what a Config remembers of where its values came from.
type meta struct {
	pos map[string]pos    // key path → position of its value (of its key when the value is empty)
	env map[string]string // key path → environment variable that set it
	bad map[string]bool   // key paths that failed to decode; Validate does not pile on
}

func newMeta() *meta {
	return &meta{pos: map[string]pos{}, env: map[string]string{}, bad: map[string]bool{}}
}

// maxNodes bounds the values decoded, aliases expanded, so that a small file
// with nested aliases ("billion laughs") cannot exhaust memory.
const maxNodes = 200_000

type decoder struct {
	env     func(string) (string, bool)
	meta    *meta
	probs   []Problem
	aliases map[*ast.AliasNode]ast.Node
	budget  int
}

// parseYAML parses data into goccy's AST. Duplicate keys are allowed here
// and reported by the decoder, with the other problems.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		// goccy's parser has panicked on odd input before; a config
		// loader must not take the program down with it.
		if r := recover(); r != nil {
			f, err = nil, &Error{Problems: []Problem{{Line: 1, Col: 1, Msg: fmt.Sprintf("the YAML parser failed on this file (%v); check its syntax", r)}}}
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

// syntaxProblem turns a goccy error into a positioned Problem.
func syntaxProblem(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := Problem{Line: 1, Col: 1, Msg: "invalid YAML: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Col = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
		return p
	}
	var e *Error
	if errors.As(err, &e) && len(e.Problems) > 0 {
		return e.Problems[0]
	}
	return Problem{Line: 1, Col: 1, Msg: "invalid YAML: " + err.Error()}
}

// nodePos is where n starts in the file.
func nodePos(n ast.Node) pos {
	switch v := n.(type) {
	case nil:
		return pos{1, 1}
	case *ast.MappingNode:
		// A block mapping's own token is its first ':'; point at its first key.
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return nodePos(v.Values[0])
		}
	case *ast.MappingValueNode:
		return nodePos(v.Key)
	case *ast.MappingKeyNode:
		return tokenPos(v.Start)
	}
	return tokenPos(n.GetToken())
}

func tokenPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

func (d *decoder) add(p pos, key, format string, args ...any) {
	d.probs = append(d.probs, Problem{Line: p.line, Col: p.col, Key: key, Msg: fmt.Sprintf(format, args...)})
	if key != "" {
		d.meta.bad[key] = true
	}
}

// collectAliases maps every alias to the anchor it names, in document
// order, so that a redefined anchor resolves as YAML says. An anchor is
// registered after its own value, so no alias can refer to itself.
func (d *decoder) collectAliases(n ast.Node, anchors map[string]ast.Node) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			d.collectAliases(mv, anchors)
		}
	case *ast.MappingValueNode:
		d.collectAliases(v.Key, anchors)
		d.collectAliases(v.Value, anchors)
	case *ast.MappingKeyNode:
		d.collectAliases(v.Value, anchors)
	case *ast.SequenceNode:
		for _, x := range v.Values {
			d.collectAliases(x, anchors)
		}
	case *ast.TagNode:
		d.collectAliases(v.Value, anchors)
	case *ast.AnchorNode:
		d.collectAliases(v.Value, anchors)
		if name := scalarName(v.Name); name != "" {
			anchors[name] = v.Value
		}
	case *ast.AliasNode:
		if target, ok := anchors[scalarName(v.Value)]; ok {
			d.aliases[v] = target
		}
	}
}

func scalarName(n ast.Node) string {
	if n == nil {
		return ""
	}
	if s, ok := n.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// resolve follows anchors, aliases and tags down to the node holding the
// value. Tags are ignored: each key's type is fixed by the schema, and text
// fields take numbers and booleans as written.
func (d *decoder) resolve(n ast.Node, path string) (ast.Node, bool) {
	for range 64 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			target, found := d.aliases[v]
			if !found {
				d.add(nodePos(v), path, "*%s refers to no anchor &%s defined before it", scalarName(v.Value), scalarName(v.Value))
				return nil, false
			}
			n = target
		case *ast.TagNode:
			n = v.Value
		default:
			return n, true
		}
	}
	d.add(nodePos(n), path, "anchors and aliases nest too deeply")
	return nil, false
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	smtpType     = reflect.TypeFor[SMTP]()
	sourceType   = reflect.TypeFor[Source]()
	digestType   = reflect.TypeFor[Digest]()
)

// fieldsOf lists the YAML keys of a struct type in declaration order, with
// their field indexes.
func fieldsOf(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

// newElem returns a zero list element with its defaults filled in, so that
// each source, digest or smtp block starts from the same defaults as the
// top level does.
func newElem(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	switch t {
	case sourceType:
		v.Set(reflect.ValueOf(Source{Kind: KindNews}))
	case digestType:
		v.Set(reflect.ValueOf(Digest{MaxAge: DefaultDigestMaxAge}))
	case smtpType:
		v.Set(reflect.ValueOf(SMTP{Port: DefaultSMTPPort, TLS: TLSStartTLS}))
	}
	return v
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// spend counts one value read at n against maxNodes, reporting the first
// time the budget runs out; it returns false once it has.
func (d *decoder) spend(n ast.Node) bool {
	d.budget--
	if d.budget == 0 {
		d.add(nodePos(n), "", "the document is too large once aliases are expanded (more than %d values)", maxNodes)
	}
	return d.budget > 0
}

// decode sets v from n. keyPos is where the key naming this value is, used
// when the value itself is empty.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string, keyPos pos) {
	if !d.spend(n) {
		return
	}
	n, ok := d.resolve(n, path)
	if !ok {
		return
	}
	if isNull(n) {
		d.meta.pos[path] = keyPos
		// An empty value means "not set": keep the default, except that
		// an empty smtp: block switches mail off like leaving it out.
		if v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			v.SetZero()
		}
		return
	}
	p := nodePos(n)
	d.meta.pos[path] = p

	t := v.Type()
	switch {
	case t == durationType:
		d.decodeDuration(n, v, path)
	case t.Kind() == reflect.Struct:
		d.decodeStruct(n, v, path)
	case t.Kind() == reflect.Pointer:
		nv := newElem(t.Elem())
		if !v.IsNil() {
			nv.Set(v.Elem())
		}
		bad := len(d.probs)
		d.decode(n, nv, path, keyPos)
		if len(d.probs) == bad || t.Elem().Kind() == reflect.Struct {
			ptr := reflect.New(t.Elem())
			ptr.Elem().Set(nv)
			v.Set(ptr)
		}
	case t.Kind() == reflect.Slice:
		d.decodeSlice(n, v, path)
	case t.Kind() == reflect.String:
		s, ok := d.text(n, path)
		if !ok {
			d.add(p, path, "must be text, not %s", describe(n))
			return
		}
		v.SetString(s)
	case t.Kind() == reflect.Bool:
		d.decodeBool(n, v, path)
	case t.Kind() == reflect.Int64:
		// The schema's only int64 is a byte size (fetch.max_body_bytes).
		d.decodeSize(n, v, path)
	case t.Kind() == reflect.Int:
		d.decodeInt(n, v, path)
	case t.Kind() == reflect.Float64:
		d.decodeFloat(n, v, path)
	default:
		d.add(p, path, "cannot be read into a Go %s (a bug in broadsheet's config package)", t)
	}
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// entry is one key and value of a mapping, merge keys resolved.
type entry struct {
	key   string
	pos   pos
	value ast.Node
}

// entries lists a mapping's keys and values. Keys set by a "<<" merge come
// after the mapping's own keys and never override them; a key written twice
// is a problem.
func (d *decoder) entries(n ast.Node, path string, depth int) ([]entry, bool) {
	if d.budget <= 0 {
		return nil, true // reported already; stop expanding merges
	}
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		return nil, false
	}
	var (
		out    []entry
		seen   = map[string]pos{}
		merged []ast.Node
	)
	for _, mv := range values {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			merged = append(merged, mv.Value)
			continue
		}
		kp := nodePos(mv.Key)
		key, ok := keyText(mv.Key)
		if !ok {
			d.add(kp, path, "%s is not a valid key: keys are plain names such as \"url\"", describe(mv.Key))
			continue
		}
		if first, dup := seen[key]; dup {
			d.add(kp, join(path, key), "is set twice in the same block (first at line %d): remove one", first.line)
			continue
		}
		seen[key] = kp
		out = append(out, entry{key, kp, mv.Value})
	}
	if depth > 8 {
		return out, true
	}
	for _, mn := range merged {
		mp := nodePos(mn)
		mn, ok := d.resolve(mn, path)
		if !ok {
			continue
		}
		var sources []ast.Node
		if seq, isSeq := mn.(*ast.SequenceNode); isSeq {
			sources = seq.Values
		} else {
			sources = []ast.Node{mn}
		}
		for _, s := range sources {
			s, ok := d.resolve(s, path)
			if !ok {
				continue
			}
			es, ok := d.entries(s, path, depth+1)
			if !ok {
				d.add(mp, path, "<< must merge a mapping (such as *defaults), not %s", describe(s))
				continue
			}
			for _, e := range es {
				if !d.spend(e.value) {
					return out, true
				}
				if _, dup := seen[e.key]; !dup {
					seen[e.key] = e.pos
					out = append(out, e)
				}
			}
		}
	}
	return out, true
}

func keyText(n ast.Node) (string, bool) {
	switch k := n.(type) {
	case *ast.MappingKeyNode:
		return keyText(k.Value)
	case *ast.StringNode:
		return k.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	es, ok := d.entries(n, path, 0)
	if !ok {
		d.add(nodePos(n), path, "must be a block of keys (key: value lines), not %s", describe(n))
		return
	}
	names, index := fieldsOf(v.Type())
	for _, e := range es {
		if path == "" && strings.HasPrefix(e.key, "x-") {
			continue // extension keys hold anchors for reuse
		}
		kpath := join(path, e.key)
		i, ok := index[e.key]
		if !ok {
			msg := "unknown key"
			if s := suggest(e.key, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				sorted := append([]string(nil), names...)
				sort.Strings(sorted)
				msg += "; valid keys here are " + strings.Join(sorted, ", ")
			}
			d.add(e.pos, kpath, "%s", msg)
			continue
		}
		d.decode(e.value, v.Field(i), kpath, e.pos)
	}
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		// A single address or tag may be written without a list.
		if v.Type().Elem().Kind() == reflect.String {
			if s, ok := d.text(n, path); ok {
				v.Set(reflect.ValueOf([]string{s}))
				return
			}
		}
		d.add(nodePos(n), path, "must be a list (\"- item\" lines or [a, b]), not %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(seq.Values))
	for i, item := range seq.Values {
		ev := newElem(v.Type().Elem())
		d.decode(item, ev, fmt.Sprintf("%s[%d]", path, i), nodePos(item))
		out = reflect.Append(out, ev)
	}
	v.Set(out)
}

// text returns a scalar's text, with ${VAR} references expanded in strings.
// Numbers and booleans give their text as written, so `password: 0123`
// keeps its leading zero.
func (d *decoder) text(n ast.Node, path string) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return d.expand(v.Value, v.Token, path), true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return d.expand(v.Value.Value, v.Start, path), true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

// expand expands s, which was read from tk, reporting unset variables at
// their own column where the token is a single line.
func (d *decoder) expand(s string, tk *token.Token, path string) string {
	out, errs := expand(s, d.env)
	for _, e := range errs {
		p := tokenPos(tk)
		if tk != nil {
			// Find the reference in the source text for an exact column;
			// escapes in quoted strings can shift it from s's offset.
			raw := strings.TrimLeft(tk.Origin, " \t")
			end := min(e.offset+2, len(s))
			ref := s[e.offset:end]
			if i := strings.IndexByte(s[end:], '}'); i >= 0 {
				ref = s[e.offset : end+i+1]
			}
			if i := strings.Index(raw, ref); i >= 0 && !strings.Contains(raw[:i], "\n") {
				p.col += utf8.RuneCountInString(raw[:i])
			}
		}
		d.add(p, path, "%s", e.msg)
	}
	return out
}

// describe names what n holds, for type errors.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a block of keys"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return fmt.Sprintf("%q", v.Value)
	case *ast.LiteralNode:
		return "a text block"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + n.GetToken().Value
	case *ast.BoolNode:
		return n.GetToken().Value
	case *ast.NullNode:
		return "nothing"
	}
	if n == nil {
		return "nothing"
	}
	return n.Type().String()
}

// fromText expands a quoted scalar's ${VAR} references and parses the
// result: every typed field written as a string goes through here, so
// expansion and the reported position are the same for all of them. A parse
// error is the problem reported; ok is false then.
func fromText[T any](d *decoder, x *ast.StringNode, path string, parse func(string) (T, error)) (t T, ok bool) {
	t, err := parse(d.expand(x.Value, x.Token, path))
	if err != nil {
		d.add(nodePos(x), path, "%s", err)
		return t, false
	}
	return t, true
}

// parseWhole reads a quoted whole number.
func parseWhole(s string) (int64, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s is too large", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number: write digits only, such as 8", s)
	}
	return n, nil
}

// parseFinite reads a quoted number; NaN and infinities are refused.
func parseFinite(s string) (float64, error) {
	s = strings.TrimSpace(s)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// parseTrueFalse reads a quoted true or false, in any case.
func parseTrueFalse(s string) (bool, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false: write true or false (YAML 1.2 reads yes, no, on and off as text)", s)
}

func (d *decoder) decodeInt(n ast.Node, v reflect.Value, path string) {
	p := nodePos(n)
	var i int64
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch iv := x.Value.(type) {
		case int64:
			i = iv
		case uint64:
			if iv > math.MaxInt64 {
				d.add(p, path, "%s is too large", x.Token.Value)
				return
			}
			i = int64(iv)
		}
	case *ast.StringNode:
		var ok bool
		if i, ok = fromText(d, x, path, parseWhole); !ok {
			return
		}
	default:
		d.add(p, path, "must be a whole number, not %s", describe(n))
		return
	}
	if v.OverflowInt(i) {
		d.add(p, path, "%d is too large", i)
		return
	}
	v.SetInt(i)
}

func (d *decoder) decodeSize(n ast.Node, v reflect.Value, path string) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		d.decodeInt(n, v, path)
	case *ast.StringNode:
		if size, ok := fromText(d, x, path, ParseSize); ok {
			v.SetInt(size)
		}
	default:
		d.add(nodePos(n), path, "must be a size such as 16MiB or a number of bytes, not %s", describe(n))
	}
}

// parseRetention is ParseDuration that also reads "forever" (in any case)
// as 0, which keeps articles for good.
func parseRetention(s string) (time.Duration, error) {
	if strings.EqualFold(strings.TrimSpace(s), "forever") {
		return 0, nil
	}
	return ParseDuration(s)
}

func (d *decoder) decodeDuration(n ast.Node, v reflect.Value, path string) {
	p := nodePos(n)
	switch x := n.(type) {
	case *ast.StringNode:
		parse := ParseDuration
		if path == "retention" {
			parse = parseRetention
		}
		if dur, ok := fromText(d, x, path, parse); ok {
			v.SetInt(int64(dur))
		}
	case *ast.IntegerNode:
		if x.Token.Value == "0" {
			v.SetInt(0)
			return
		}
		d.add(p, path, "%s has no unit: write it as a duration such as %ss, %sm or %sh", x.Token.Value, x.Token.Value, x.Token.Value, x.Token.Value)
	default:
		d.add(p, path, "must be a duration such as \"90s\", \"15m\", \"72h\" or \"7d\", not %s", describe(n))
	}
}

func (d *decoder) decodeFloat(n ast.Node, v reflect.Value, path string) {
	p := nodePos(n)
	switch x := n.(type) {
	case *ast.FloatNode:
		v.SetFloat(x.Value)
	case *ast.IntegerNode:
		switch iv := x.Value.(type) {
		case int64:
			v.SetFloat(float64(iv))
		case uint64:
			v.SetFloat(float64(iv))
		}
	case *ast.InfinityNode, *ast.NanNode:
		d.add(p, path, "must be a finite number, not %s", x.GetToken().Value)
	case *ast.StringNode:
		if f, ok := fromText(d, x, path, parseFinite); ok {
			v.SetFloat(f)
		}
	default:
		d.add(p, path, "must be a number, not %s", describe(n))
	}
}

func (d *decoder) decodeBool(n ast.Node, v reflect.Value, path string) {
	switch x := n.(type) {
	case *ast.BoolNode:
		v.SetBool(x.Value)
	case *ast.StringNode:
		if b, ok := fromText(d, x, path, parseTrueFalse); ok {
			v.SetBool(b)
		}
	default:
		d.add(nodePos(n), path, "must be true or false, not %s", describe(n))
	}
}

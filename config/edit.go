package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The editor changes a configuration file by inserting and deleting whole
// lines (or, in a flow sequence, a span of one) at positions read from
// goccy's AST, rather than by printing the AST back: the printer loses the
// alignment of trailing comments and other details of layout, and a file a
// person wrote should change only where the source is. Every edit is then
// checked by parsing the result: it must be valid, hold exactly the
// sources intended and be unchanged in everything else. An edit that does
// not come out so is refused (ErrCannotEdit), never written.

// ErrCannotEdit is returned, wrapped with the reason and the YAML to add
// by hand, when a file is laid out in a way the editor does not handle (an
// alias for sources:, a file written all in flow style).
var ErrCannotEdit = errors.New("cannot edit the file automatically")

// DuplicateError is a source that is already configured: one with the same
// name (compared as source names are, ignoring case and punctuation) or the
// same feed URL (ignoring the scheme, the case of the host, a default port
// and a trailing slash).
type DuplicateError struct {
	Field    string // "name" or "url"
	Value    string // the new source's name or url
	Existing Source // the source already configured
	Line     int    // where Existing is in the file; 0 when unknown
}

func (e *DuplicateError) Error() string {
	at := ""
	if e.Line > 0 {
		at = fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Field == "url" {
		if e.Value == e.Existing.URL {
			return fmt.Sprintf("%s is already the url of source %q%s", e.Value, e.Existing.Name, at)
		}
		return fmt.Sprintf("%s is the same feed as %s, the url of source %q%s", e.Value, e.Existing.URL, e.Existing.Name, at)
	}
	if e.Value == e.Existing.Name {
		return fmt.Sprintf("a source named %q is already configured%s", e.Value, at)
	}
	return fmt.Sprintf("%q is the same name as source %q%s once case and punctuation are ignored", e.Value, e.Existing.Name, at)
}

// Conflict returns a *DuplicateError if s has the feed URL or the name of
// a source of c (see DuplicateError), else nil. The URL is checked first.
func (c *Config) Conflict(s Source) error { return c.SourceSet().Conflict(s) }

// SourceSet is a set of sources indexed by name and feed, to find
// duplicates among many (an import) quickly. It is not safe for concurrent
// use.
type SourceSet struct {
	byKey, bySlug map[string]int // → index in list
	list          []Source
	lines         []int // of each source in the file, 0 if not from it
}

// SourceSet returns the set of c's sources.
func (c *Config) SourceSet() *SourceSet {
	set := &SourceSet{byKey: map[string]int{}, bySlug: map[string]int{}}
	for i, s := range c.Sources {
		line := 0
		if c.meta != nil {
			line = c.meta.pos[fmt.Sprintf("sources[%d]", i)].line
		}
		set.add(s, line)
	}
	return set
}

// Add adds s to the set.
func (set *SourceSet) Add(s Source) { set.add(s, 0) }

func (set *SourceSet) add(s Source, line int) {
	i := len(set.list)
	set.list = append(set.list, s)
	set.lines = append(set.lines, line)
	if k := FeedKey(s.URL); k != "" {
		if _, ok := set.byKey[k]; !ok {
			set.byKey[k] = i
		}
	}
	if k := slugify(s.Name); k != "" {
		if _, ok := set.bySlug[k]; !ok {
			set.bySlug[k] = i
		}
	}
}

// Conflict returns a *DuplicateError if s has the feed URL or the name of
// a source in the set, else nil. The URL is checked first.
func (set *SourceSet) Conflict(s Source) error {
	if i, ok := set.byKey[FeedKey(s.URL)]; ok && s.URL != "" {
		return &DuplicateError{Field: "url", Value: s.URL, Existing: set.list[i], Line: set.lines[i]}
	}
	if i, ok := set.bySlug[slugify(s.Name)]; ok && slugify(s.Name) != "" {
		return &DuplicateError{Field: "name", Value: s.Name, Existing: set.list[i], Line: set.lines[i]}
	}
	return nil
}

// FeedKey is the form of a feed URL under which two URLs are taken for the
// same feed: without the scheme, with the host in lower case and without
// a default port, without a trailing slash or fragment. http and https
// addresses of one feed are one feed.
func FeedKey(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	k := strings.ToLower(u.Hostname())
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		k += ":" + p
	}
	k += strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		k += "?" + u.RawQuery
	}
	return k
}

// AddSources returns data, the text of the configuration file name, with
// add appended to its sources: list, keeping the rest of the text as it
// was (comments, order, layout); new entries follow the indentation and
// spacing of the last one. The file must be valid as it is. It returns a
// *DuplicateError if a source's name or URL is already configured (or
// repeated in add), an error listing the problems if the result would not
// be valid (an invalid schedule, say), and an error wrapping ErrCannotEdit
// if the file is laid out in a way the editor does not handle.
func AddSources(name string, data []byte, add ...Source) ([]byte, error) {
	if len(add) == 0 {
		return data, nil
	}
	old, err := parseWith(name, data, envLookup)
	if err != nil {
		return nil, fmt.Errorf("%s has problems; fix them first:\n%w", name, err)
	}
	want := *old
	want.Sources = slices.Clone(old.Sources)
	set := old.SourceSet()
	for _, s := range add {
		if err := set.Conflict(s); err != nil {
			return nil, err
		}
		set.Add(s)
		want.Sources = append(want.Sources, s)
	}
	t := newText(data)
	loc, err := t.locateSources()
	if err != nil {
		return nil, cannotEdit(err, add)
	}
	if err := t.insert(loc, add); err != nil {
		return nil, cannotEdit(err, add)
	}
	out := t.bytes()
	if err := checkEdit(name, out, &want); err != nil {
		if errors.Is(err, ErrCannotEdit) {
			return nil, cannotEdit(err, add)
		}
		return nil, err
	}
	return out, nil
}

// RemoveSource returns data, the text of the configuration file name,
// without the source called source (compared as source names are,
// ignoring case and punctuation), and that source. The comment lines
// directly above its entry go with it; the rest of the text stays as it
// was. The file must be valid as it is, and stay valid: a source that a
// topic or digest names cannot be removed before them. An unknown name is
// an error naming the sources.
func RemoveSource(name string, data []byte, source string) ([]byte, Source, error) {
	old, err := parseWith(name, data, envLookup)
	if err != nil {
		return nil, Source{}, fmt.Errorf("%s has problems; fix them first:\n%w", name, err)
	}
	i := slices.IndexFunc(old.Sources, func(s Source) bool { return s.Name == source })
	if i < 0 {
		i = slices.IndexFunc(old.Sources, func(s Source) bool { return slugify(s.Name) == slugify(source) && slugify(source) != "" })
	}
	if i < 0 {
		return nil, Source{}, notConfigured(old, source)
	}
	removed := old.Sources[i]
	want := *old
	want.Sources = slices.Delete(slices.Clone(old.Sources), i, i+1)
	t := newText(data)
	loc, err := t.locateSources()
	if err == nil {
		err = t.remove(loc, i)
	}
	if err != nil {
		return nil, Source{}, fmt.Errorf("%w: %v; remove the entry of %q from %s by hand", ErrCannotEdit, err, removed.Name, name)
	}
	out := t.bytes()
	if err := checkEdit(name, out, &want); err != nil {
		if errors.Is(err, ErrCannotEdit) {
			return nil, Source{}, fmt.Errorf("%w; remove the entry of %q from %s by hand", err, removed.Name, name)
		}
		return nil, Source{}, fmt.Errorf("removing source %q would leave %s invalid; change these first:\n%w", removed.Name, name, err)
	}
	return out, removed, nil
}

// envLookup reads the environment for the edits' checks, as Load does;
// tests replace it.
var envLookup envFunc = os.LookupEnv

func notConfigured(c *Config, name string) error {
	if len(c.Sources) == 0 {
		return fmt.Errorf("no source named %q: no sources are configured", name)
	}
	names := make([]string, len(c.Sources))
	for i, s := range c.Sources {
		names[i] = s.Name
	}
	msg := fmt.Sprintf("no source named %q", name)
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	if len(names) <= 10 {
		msg += " The sources are: " + quoteList(names, "and")
	}
	return errors.New(msg)
}

// cannotEdit wraps err, the reason an edit could not be made, with the
// YAML that would add srcs by hand.
func cannotEdit(err error, srcs []Source) error {
	var b strings.Builder
	for _, s := range srcs {
		writeBlockEntry(&b, s, "  ", 2, "\n")
	}
	if !errors.Is(err, ErrCannotEdit) {
		err = fmt.Errorf("%w: %v", ErrCannotEdit, err)
	}
	return fmt.Errorf("%w; add this under sources: by hand:\n%s", err, b.String())
}

// checkEdit parses out and checks that it is valid and equal to want, but
// for Path, meta and the parsed schedules (derived from the rest).
func checkEdit(name string, out []byte, want *Config) error {
	got, err := parseWith(name, out, envLookup)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) && ce.cause == nil {
			// Positions in the edited text, which the user has not seen,
			// would only confuse: keep the keys and messages.
			var b strings.Builder
			for i, p := range ce.Problems {
				if i > 0 {
					b.WriteByte('\n')
				}
				p.Line, p.Col = 0, 0
				b.WriteString(p.String())
			}
			return errors.New(b.String())
		}
		return fmt.Errorf("%w: the edited text does not parse (%v)", ErrCannotEdit, err)
	}
	a, b := *got, *want
	a.Path, a.meta, b.Path, b.meta = "", nil, "", nil
	a.parsed, b.parsed = schedules{}, schedules{}
	b.Sources = slices.Clone(b.Sources)
	b.fillDerived()
	for _, c := range []*Config{&a, &b} {
		if len(c.Sources) == 0 {
			c.Sources = nil
		}
		for i := range c.Sources {
			if len(c.Sources[i].Tags) == 0 {
				c.Sources[i].Tags = nil
			}
		}
	}
	if !reflect.DeepEqual(a.Sources, b.Sources) {
		return fmt.Errorf("%w: the edited file's sources are not the ones intended", ErrCannotEdit)
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("%w: the edit changed more than the sources", ErrCannotEdit)
	}
	return nil
}

// text is a file as lines, each with its line ending, edited in place.
type text struct {
	bom   bool
	lines []string
	eol   string // for new lines: the file's own, "\n" or "\r\n"
}

func newText(data []byte) *text {
	t := &text{eol: "\n"}
	if rest, ok := bytes.CutPrefix(data, []byte("\xef\xbb\xbf")); ok {
		t.bom, data = true, rest
	}
	if bytes.Contains(data, []byte("\r\n")) {
		t.eol = "\r\n"
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			t.lines = append(t.lines, string(data))
			break
		}
		t.lines = append(t.lines, string(data[:i+1]))
		data = data[i+1:]
	}
	return t
}

func (t *text) bytes() []byte {
	var b bytes.Buffer
	if t.bom {
		b.WriteString("\xef\xbb\xbf")
	}
	for _, l := range t.lines {
		b.WriteString(l)
	}
	return b.Bytes()
}

// line returns line n (1-based) without its ending, or "" past the end.
func (t *text) line(n int) string {
	if n < 1 || n > len(t.lines) {
		return ""
	}
	return strings.TrimRight(t.lines[n-1], "\r\n")
}

func (t *text) blank(n int) bool { return strings.TrimSpace(t.line(n)) == "" }

func (t *text) comment(n int) bool { return strings.HasPrefix(strings.TrimSpace(t.line(n)), "#") }

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// insertLines inserts ls (without endings) after line n (0: at the top).
func (t *text) insertLines(n int, ls []string) {
	if n > 0 && n == len(t.lines) && !strings.HasSuffix(t.lines[n-1], "\n") {
		t.lines[n-1] += t.eol
	}
	add := make([]string, len(ls))
	for i, l := range ls {
		add[i] = l + t.eol
	}
	t.lines = slices.Insert(t.lines, n, add...)
}

// offset is the byte index in line n of the 1-based column col, which
// goccy counts in runes.
func (t *text) offset(n, col int) int {
	l := t.line(n)
	i := 0
	for c := 1; c < col && i < len(l); c++ {
		_, size := utf8.DecodeRuneInString(l[i:])
		i += size
	}
	return i
}

// sourcesLoc is where the sources: list is.
type sourcesLoc struct {
	key *ast.MappingValueNode // nil when the file has no sources: key
	seq *ast.SequenceNode     // nil when the value is empty
}

func (t *text) locateSources() (sourcesLoc, error) {
	var src bytes.Buffer
	for _, l := range t.lines {
		src.WriteString(l)
	}
	f, err := parseYAML(src.Bytes())
	if err != nil {
		return sourcesLoc{}, err
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return sourcesLoc{}, nil
	}
	body := unwrap(f.Docs[0].Body)
	var values []*ast.MappingValueNode
	switch v := body.(type) {
	case *ast.MappingNode:
		if v.IsFlowStyle {
			return sourcesLoc{}, errors.New("the file is written in flow style ({...})")
		}
		values = v.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{v}
	case *ast.NullNode:
		return sourcesLoc{}, nil
	default:
		return sourcesLoc{}, fmt.Errorf("the file is not a block of keys")
	}
	var loc sourcesLoc
	for _, mv := range values {
		if k, ok := mv.Key.(*ast.StringNode); ok && k.Value == "sources" {
			loc.key = mv
		}
	}
	if loc.key == nil {
		return loc, nil
	}
	if loc.key.IsFlowStyle {
		return loc, errors.New("sources: is inside a flow mapping")
	}
	switch v := unwrap(loc.key.Value).(type) {
	case *ast.SequenceNode:
		if len(v.Entries) != len(v.Values) && !v.IsFlowStyle {
			return loc, errors.New("the sources: list has entries the editor cannot find")
		}
		loc.seq = v
	case *ast.NullNode:
	case *ast.AliasNode:
		return loc, errors.New("sources: is an alias (*name) of a list defined elsewhere")
	default:
		return loc, fmt.Errorf("sources: is %s, not a list", describe(v))
	}
	return loc, nil
}

// unwrap strips anchors and tags.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// endLine is the last line that n's tokens occupy, comments aside.
func endLine(n ast.Node) int {
	last := 0
	see := func(tk *token.Token) {
		if tk == nil || tk.Position == nil || tk.Type == token.CommentType {
			return
		}
		// A token's Origin holds the spaces and line breaks around it; the
		// ones inside (a block scalar's lines) are lines it occupies.
		end := tk.Position.Line + strings.Count(strings.TrimSpace(tk.Origin), "\n")
		last = max(last, end)
	}
	ast.Walk(visitor(func(n ast.Node) {
		switch v := n.(type) {
		case *ast.CommentGroupNode, *ast.CommentNode:
			return
		case *ast.MappingNode:
			see(v.Start)
			see(v.End)
		case *ast.SequenceNode:
			see(v.Start)
			see(v.End)
		}
		see(n.GetToken())
	}), n)
	return last
}

type visitor func(ast.Node)

func (f visitor) Visit(n ast.Node) ast.Visitor {
	if n == nil {
		return nil
	}
	f(n)
	return f
}

// insert appends srcs to the list at loc.
func (t *text) insert(loc sourcesLoc, srcs []Source) error {
	switch {
	case loc.key == nil:
		// No sources: key: a new one at the end of the file.
		ls := []string{}
		if n := len(t.lines); n > 0 && !t.blank(n) {
			ls = append(ls, "")
		}
		ls = append(ls, "sources:")
		ls = append(ls, blockEntries(srcs, "  ", 2, false)...)
		t.insertLines(len(t.lines), ls)
	case loc.seq == nil:
		return t.insertAfterKey(loc.key, srcs)
	case loc.seq.IsFlowStyle:
		if len(loc.seq.Values) == 0 && loc.seq.Start.Position.Line == loc.seq.End.Position.Line &&
			loc.seq.Start.Position.Line == loc.key.Key.GetToken().Position.Line {
			// "sources: []": the list becomes a block, easier to edit by
			// hand afterwards.
			n := loc.seq.Start.Position.Line
			l := t.line(n)
			i, j := t.offset(n, loc.seq.Start.Position.Column), t.offset(n, loc.seq.End.Position.Column)+1
			t.lines[n-1] = strings.TrimRight(l[:i], " ") + l[j:] + t.lines[n-1][len(l):]
			return t.insertAfterKey(loc.key, srcs)
		}
		return t.insertFlow(loc.seq, srcs)
	default:
		t.insertBlock(loc.seq, srcs)
	}
	return nil
}

// insertAfterKey writes srcs as the block list of an empty sources: key,
// removing an explicit null (~, null) first.
func (t *text) insertAfterKey(key *ast.MappingValueNode, srcs []Source) error {
	kt := key.Key.GetToken()
	n := kt.Position.Line
	if v, ok := unwrap(key.Value).(*ast.NullNode); ok {
		if tk := v.GetToken(); tk != nil && tk.Position != nil && tk.Type == token.NullType {
			l := t.line(n)
			i := t.offset(n, tk.Position.Column)
			j := i + len(tk.Value)
			if tk.Position.Line != n || j > len(l) || l[i:j] != tk.Value {
				return errors.New("cannot find the empty value of the sources key")
			}
			rest := strings.TrimSpace(l[j:])
			if rest != "" && !strings.HasPrefix(rest, "#") {
				return errors.New("sources: has more on its line than an empty value")
			}
			if rest != "" {
				rest = " " + rest
			}
			t.lines[n-1] = strings.TrimRight(l[:i], " ") + rest + t.lines[n-1][len(l):]
		}
	}
	keyIndent := kt.Position.Column - 1
	// Comment lines indented under sources: belong to it; the entries go
	// after them.
	at := n
	for at+1 <= len(t.lines) && t.comment(at+1) && indentOf(t.line(at+1)) > keyIndent {
		at++
	}
	ind := strings.Repeat(" ", keyIndent+2)
	t.insertLines(at, blockEntries(srcs, ind, 2, false))
	return nil
}

// insertBlock appends srcs to a block list, with the last entry's
// indentation, and a blank line between entries if the last two have one.
func (t *text) insertBlock(seq *ast.SequenceNode, srcs []Source) {
	last := seq.Entries[len(seq.Entries)-1]
	dash := last.Start.Position
	end := max(endLine(last.Value), dash.Line)
	keyOffset := 2
	if m, ok := unwrap(last.Value).(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		if k := m.Values[0].Key.GetToken(); k.Position.Line == dash.Line {
			keyOffset = k.Position.Column - dash.Column
		}
	} else if mv, ok := unwrap(last.Value).(*ast.MappingValueNode); ok {
		if k := mv.Key.GetToken(); k.Position.Line == dash.Line {
			keyOffset = k.Position.Column - dash.Column
		}
	}
	spaced := false
	if len(seq.Entries) >= 2 {
		prev := seq.Entries[len(seq.Entries)-2]
		for n := max(endLine(prev.Value), prev.Start.Position.Line) + 1; n < dash.Line; n++ {
			if t.blank(n) {
				spaced = true
			}
		}
	}
	ind := strings.Repeat(" ", dash.Column-1)
	t.insertLines(end, blockEntries(srcs, ind, keyOffset, spaced))
}

// insertFlow appends srcs to a flow list, [{...}, {...}].
func (t *text) insertFlow(seq *ast.SequenceNode, srcs []Source) error {
	var items []string
	for _, s := range srcs {
		items = append(items, flowEntry(s))
	}
	endTk := seq.End
	if endTk == nil || endTk.Position == nil {
		return errors.New("cannot find the end of the sources: list")
	}
	n := endTk.Position.Line
	l := t.line(n)
	at := t.offset(n, endTk.Position.Column)
	if at >= len(l) || l[at] != ']' {
		return errors.New("cannot find the end of the sources: list")
	}
	// What comes before the "]": "[" (empty), "," (a trailing comma) or an
	// entry, on line pm at byte pk.
	prev, pm, pk := byte('['), n, at
	for m, j := n, at; m >= 1; m-- {
		s := t.line(m)
		if m != n {
			j = len(s)
		}
		if k := strings.LastIndexFunc(s[:j], func(r rune) bool { return r != ' ' && r != '\t' }); k >= 0 {
			prev, pm, pk = s[k], m, k
			break
		}
	}
	own := strings.TrimSpace(l[:at]) == "" // the "]" starts its line
	switch {
	case own && prev == ',':
		// One entry a line, each with its comma: so the new ones.
		ind := strings.Repeat(" ", indentOf(t.line(pm)))
		var ls []string
		for _, it := range items {
			ls = append(ls, ind+it+",")
		}
		t.insertLines(n-1, ls)
	case prev == '[' || prev == ',':
		sep := ""
		if prev == ',' {
			sep = " "
		}
		t.lines[n-1] = l[:at] + sep + strings.Join(items, ", ") + l[at:] + t.lines[n-1][len(l):]
	default:
		// After the last entry, wherever the "]" is.
		pl := t.line(pm)
		t.lines[pm-1] = pl[:pk+1] + ", " + strings.Join(items, ", ") + pl[pk+1:] + t.lines[pm-1][len(pl):]
	}
	return nil
}

// remove deletes entry i of the list at loc.
func (t *text) remove(loc sourcesLoc, i int) error {
	if loc.seq == nil || i >= len(loc.seq.Values) {
		return errors.New("cannot find the source's entry")
	}
	if loc.seq.IsFlowStyle {
		return t.removeFlow(loc.seq, i)
	}
	e := loc.seq.Entries[i]
	dash := e.Start.Position
	if strings.TrimSpace(t.line(dash.Line)[:t.offset(dash.Line, dash.Column)]) != "" {
		return errors.New("the entry does not start its line")
	}
	end := max(endLine(e.Value), dash.Line)
	if i+1 < len(loc.seq.Entries) && loc.seq.Entries[i+1].Start.Position.Line <= end {
		return errors.New("the entry shares a line with the next")
	}
	// The comment lines directly above, as indented as the entry, are its.
	floor := loc.key.Key.GetToken().Position.Line
	if i > 0 {
		prev := loc.seq.Entries[i-1]
		floor = max(endLine(prev.Value), prev.Start.Position.Line)
	}
	start := dash.Line
	for start-1 > floor && t.comment(start-1) && indentOf(t.line(start-1)) >= dash.Column-1 {
		start--
	}
	// Keep single blank lines between what remains.
	before, after := start-1, end+1
	if after <= len(t.lines) && t.blank(after) && (before <= floor && i == 0 || t.blank(before)) {
		end++
	} else if after > len(t.lines) && before > floor && t.blank(before) {
		start--
	}
	t.lines = slices.Delete(t.lines, start-1, end)
	return nil
}

// removeFlow deletes entry i of a flow list, with a comma next to it.
func (t *text) removeFlow(seq *ast.SequenceNode, i int) error {
	m, ok := unwrap(seq.Values[i]).(*ast.MappingNode)
	if !ok || !m.IsFlowStyle || m.Start == nil || m.End == nil {
		return errors.New("the source's entry is not a {...} mapping")
	}
	// Work on the whole text, by byte offsets.
	s := string(t.bytesNoBOM())
	lineStart := func(n int) int {
		off := 0
		for _, l := range t.lines[:n-1] {
			off += len(l)
		}
		return off
	}
	from := lineStart(m.Start.Position.Line) + t.offset(m.Start.Position.Line, m.Start.Position.Column)
	to := lineStart(m.End.Position.Line) + t.offset(m.End.Position.Line, m.End.Position.Column) + 1
	if from >= len(s) || s[from] != '{' || to > len(s) || s[to-1] != '}' {
		return errors.New("cannot find the source's entry")
	}
	// Take the comma after, else the one before.
	j := to
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j < len(s) && s[j] == ',' {
		to = j + 1
		for to < len(s) && s[to] == ' ' {
			to++
		}
	} else {
		k := from - 1
		for k >= 0 && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			k--
		}
		if k >= 0 && s[k] == ',' {
			from = k
		}
	}
	nt := newText([]byte(s[:from] + s[to:]))
	t.lines = nt.lines
	return nil
}

func (t *text) bytesNoBOM() []byte {
	var b bytes.Buffer
	for _, l := range t.lines {
		b.WriteString(l)
	}
	return b.Bytes()
}

// blockEntries writes srcs as block list entries: ind before the dash,
// keyOffset columns from the dash to the keys, a blank line before each if spaced.
func blockEntries(srcs []Source, ind string, keyOffset int, spaced bool) []string {
	var b strings.Builder
	for _, s := range srcs {
		if spaced {
			b.WriteString("\n")
		}
		writeBlockEntry(&b, s, ind, keyOffset, "\n")
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func writeBlockEntry(b *strings.Builder, s Source, ind string, keyOffset int, eol string) {
	lead := ind + "-" + strings.Repeat(" ", max(keyOffset-1, 1))
	field := func(k, v string) {
		b.WriteString(lead + k + ": " + v + eol)
		lead = ind + strings.Repeat(" ", max(keyOffset, 2))
	}
	field("name", scalar(s.Name, false))
	field("url", scalar(s.URL, false))
	if s.Kind != "" {
		field("kind", scalar(s.Kind, false))
	}
	if len(s.Tags) > 0 {
		field("tags", flowList(s.Tags))
	}
	if s.Schedule != "" {
		field("schedule", scalar(s.Schedule, false))
	}
}

// flowEntry writes s as a flow mapping, {name: ..., url: ...}.
func flowEntry(s Source) string {
	parts := []string{"name: " + scalar(s.Name, true), "url: " + scalar(s.URL, true)}
	if s.Kind != "" {
		parts = append(parts, "kind: "+scalar(s.Kind, true))
	}
	if len(s.Tags) > 0 {
		parts = append(parts, "tags: "+flowList(s.Tags))
	}
	if s.Schedule != "" {
		parts = append(parts, "schedule: "+scalar(s.Schedule, true))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func flowList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = scalar(s, true)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// scalar writes s as a YAML scalar that reads back as the string s: plain
// when that is so, else double-quoted. A $ is doubled, since the loader
// expands ${VAR} in values. In flow context, commas and brackets need
// quotes too.
func scalar(s string, flow bool) string {
	s = strings.ReplaceAll(s, "$", "$$")
	if s != "" && readsBack(s, s, flow) {
		return s
	}
	return strconv.Quote(s)
}

// readsBack reports whether written, as a value, reads back as the string
// want.
func readsBack(written, want string, flow bool) bool {
	if strings.ContainsAny(written, "\r\n\t") || strings.TrimSpace(written) != written {
		return false
	}
	doc := "k: " + written
	if flow {
		doc = "k: [" + written + "]"
	}
	var v map[string]any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		return false
	}
	got := v["k"]
	if flow {
		l, ok := got.([]any)
		if !ok || len(l) != 1 {
			return false
		}
		got = l[0]
	}
	str, ok := got.(string)
	return ok && str == want
}

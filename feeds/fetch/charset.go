package fetch

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// toUTF8 converts a feed body to valid UTF-8, so that gofeed never sees
// another encoding nor fails on a stray byte. A byte order mark decides the
// encoding. Otherwise a body that is valid UTF-8 is taken as UTF-8 whatever
// it claims: text in a legacy encoding is almost never valid UTF-8, while
// UTF-8 labelled ISO-8859-1 is a common server default. Other bodies are
// decoded with the charset of the XML declaration, else of the HTTP
// Content-Type, else (when neither names one, or both say UTF-8) as
// windows-1252 if they hold no UTF-8 sequence at all, the usual mislabelled
// Latin-1 feed; what remains invalid becomes U+FFFD. An XML declaration
// naming another encoding is rewritten to say UTF-8.
func toUTF8(data []byte, contentType string) []byte {
	if enc, n := bomEncoding(data); enc != nil {
		if out, err := enc.NewDecoder().Bytes(data[n:]); err == nil {
			data = out
		} else {
			data = data[n:]
		}
	} else if !utf8.Valid(data) || bytes.IndexByte(data, 0x1b) >= 0 {
		// ESC: ISO-2022-JP and -KR are 7-bit, valid UTF-8 yet not UTF-8.
		_, _, xmlLabel := xmlEncoding(data)
		httpLabel := httpCharset(contentType)
		enc := lookup(xmlLabel)
		if enc == nil {
			enc = lookup(httpLabel)
		}
		if enc == nil && !utf8.Valid(data) && !hasMultibyteUTF8(data) {
			enc = charmap.Windows1252
		}
		if enc != nil {
			if out, err := enc.NewDecoder().Bytes(data); err == nil {
				data = out
			}
		}
	}
	if start, end, label := xmlEncoding(data); label != "" && label != "utf-8" {
		data = append(append(append(make([]byte, 0, len(data)), data[:start]...), "UTF-8"...), data[end:]...)
	}
	return finishUTF8(data)
}

// finishUTF8 replaces invalid sequences and drops U+FFFE and U+FFFF, which
// XML forbids and encoding/xml rejects.
func finishUTF8(data []byte) []byte {
	if !utf8.Valid(data) {
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	if bytes.Contains(data, []byte("\xef\xbf\xbe")) || bytes.Contains(data, []byte("\xef\xbf\xbf")) {
		data = bytes.ReplaceAll(data, []byte("\xef\xbf\xbe"), nil)
		data = bytes.ReplaceAll(data, []byte("\xef\xbf\xbf"), nil)
	}
	return data
}

// lookup returns the decoder for a charset label, or nil for UTF-8, for
// unknown labels, and for UTF-16/32 labels on a body without a byte order
// mark: such bodies are ASCII-compatible in practice, whatever they say.
func lookup(label string) encoding.Encoding {
	label = strings.ToLower(strings.TrimSpace(label))
	if label == "" || label == "utf-8" || label == "utf8" || strings.HasPrefix(label, "utf-16") || strings.HasPrefix(label, "utf-32") ||
		label == "ucs-2" || label == "unicode" {
		return nil
	}
	enc, name := charset.Lookup(label)
	if enc == nil || name == "utf-8" || name == "utf-16le" || name == "utf-16be" || name == "replacement" {
		return nil
	}
	return enc
}

// bomEncoding returns the encoding a byte order mark names and the mark's
// length, or nil. Without a mark, a document starting "<?" in UTF-16 or
// UTF-32 is recognized too (XML 1.0, appendix F).
func bomEncoding(data []byte) (encoding.Encoding, int) {
	switch {
	case bytes.HasPrefix(data, []byte{'<', 0, 0, 0}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 0
	case bytes.HasPrefix(data, []byte{0, 0, 0, '<'}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 0
	case bytes.HasPrefix(data, []byte{'<', 0, '?', 0}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 0
	case bytes.HasPrefix(data, []byte{0, '<', 0, '?'}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 0
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return encoding.Nop, 3
	case bytes.HasPrefix(data, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 2
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 2
	}
	return nil, 0
}

// xmlEncoding finds the encoding pseudo-attribute of a leading XML
// declaration and returns its value and where the value lies.
func xmlEncoding(data []byte) (start, end int, label string) {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	if !bytes.HasPrefix(data[i:], []byte("<?xml")) {
		return 0, 0, ""
	}
	decl := data[i:min(len(data), i+512)]
	stop := bytes.Index(decl, []byte("?>"))
	if stop < 0 {
		return 0, 0, ""
	}
	decl = decl[:stop]
	k := bytes.Index(decl, []byte("encoding"))
	if k < 0 {
		return 0, 0, ""
	}
	j := k + len("encoding")
	for j < len(decl) && (decl[j] == ' ' || decl[j] == '=' || decl[j] == '\t') {
		j++
	}
	if j >= len(decl) || (decl[j] != '"' && decl[j] != '\'') {
		return 0, 0, ""
	}
	q := decl[j]
	e := bytes.IndexByte(decl[j+1:], q)
	if e < 0 {
		return 0, 0, ""
	}
	start, end = i+j+1, i+j+1+e
	return start, end, strings.ToLower(string(data[start:end]))
}

// httpCharset returns the charset parameter of a Content-Type header.
func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.Trim(params["charset"], `"' `))
}

// hasMultibyteUTF8 reports whether data holds at least one valid UTF-8
// sequence of more than one byte.
func hasMultibyteUTF8(data []byte) bool {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || n > 1 {
			return true
		}
		i += n
	}
	return false
}

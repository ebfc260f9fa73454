package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/broadsheet/broadsheet/sanitize"
	jsonfeed "github.com/mmcdole/gofeed/json"
)

// maxSkipReasons bounds the reasons kept for the items of one feed that
// could not be read: a feed of a thousand broken items needs a few
// examples and a count, not a thousand log lines.
const maxSkipReasons = 10

// dropBadJSONItems returns data, a JSON Feed that gofeed refused with a
// type error, without the items that cause one, and the number and first
// reasons of those it left out. gofeed decodes the whole document in one
// json.Unmarshal, so a single `"title": 5` would reject every item of the
// feed; here each element of "items" is decoded on its own instead. The other keys are copied as they are: a type
// error outside the items still fails the parse that follows. ok is false
// when data is not a JSON object with an items array.
func dropBadJSONItems(data []byte) (out []byte, skipped int, reasons []string, ok bool) {
	var doc []struct {
		key string
		raw json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, 0, nil, false
	}
	var items []json.RawMessage
	found := false
	for dec.More() {
		t, err := dec.Token()
		key, isKey := t.(string)
		if err != nil || !isKey {
			return nil, 0, nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, nil, false
		}
		// encoding/json matches keys without regard to case, and so must
		// this, or a feed's "Items" would pass unfiltered.
		if strings.EqualFold(key, "items") {
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, 0, nil, false
			}
			found = true
			raw = nil
		}
		doc = append(doc, struct {
			key string
			raw json.RawMessage
		}{key, raw})
	}
	if !found {
		return nil, 0, nil, false
	}
	kept := make([]json.RawMessage, 0, len(items))
	for i, raw := range items {
		if err := checkJSONItem(raw); err != nil {
			skipped++
			if len(reasons) < maxSkipReasons {
				reasons = append(reasons, fmt.Sprintf("JSON Feed item %d%s: %s", i+1, itemLabel(raw), err))
			}
			continue
		}
		kept = append(kept, raw)
	}
	var b bytes.Buffer
	b.Grow(len(data))
	b.WriteByte('{')
	for i, kv := range doc {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.key)
		b.Write(k)
		b.WriteByte(':')
		if kv.raw == nil {
			arr, _ := json.Marshal(kept)
			b.Write(arr)
		} else {
			b.Write(kv.raw)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), skipped, reasons, true
}

// checkJSONItem returns nil if raw decodes as a JSON Feed item, and
// otherwise an error saying which field has which wrong type. (gofeed
// already makes a numeric id a string, as the spec asks.)
func checkJSONItem(raw json.RawMessage) error {
	var it jsonfeed.Item
	err := json.Unmarshal(raw, &it)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return typeError(te)
	}
	return err
}

// typeError words a decoding type error for a user reading the log.
func typeError(te *json.UnmarshalTypeError) error {
	// gofeed decodes through a shadow type named alias.
	field := strings.TrimPrefix(te.Field, "alias.")
	if field == "" || field == "alias" {
		return fmt.Errorf("it is a JSON %s, not an object", te.Value)
	}
	want := "a string"
	switch k := te.Type.Kind(); {
	case k == reflect.Slice:
		want = "an array"
	case k == reflect.Struct || k == reflect.Pointer || k == reflect.Map:
		want = "an object"
	case k >= reflect.Int && k <= reflect.Float64:
		want = "a number"
	case k == reflect.Bool:
		want = "true or false"
	}
	return fmt.Errorf("%q is a JSON %s where JSON Feed wants %s", field, te.Value, want)
}

// itemLabel names an item by its id or url, if it has a string one, for
// the reason it was skipped.
func itemLabel(raw json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, k := range []string{"id", "url"} {
		var s string
		if json.Unmarshal(m[k], &s) == nil && s != "" {
			return fmt.Sprintf(" (%s %q)", k, sanitize.Line(s, sanitize.NameRunes))
		}
	}
	return ""
}

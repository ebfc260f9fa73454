package digest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Preview renders d for one recipient (to, or the first of d.To if empty)
// as the next digest would be if it were planned now, without recording
// anything or sending.
func (s *Service) Preview(ctx context.Context, d Digest, to string) (*Message, error) {
	if to == "" && len(d.To) > 0 {
		to = d.To[0]
	}
	if to == "" {
		to = "reader@example.com"
	}
	r := recipient{display: to, addr: NormalizeAddress(to)}
	now := s.o.Now()
	cur, err := s.st.DigestCursor(ctx, d.Name, r.addr)
	if err != nil {
		return nil, fmt.Errorf("digest %q: %w", d.Name, err)
	}
	since, _, err := s.windowStart(ctx, d.Name, r.addr, cur, now)
	if err != nil {
		return nil, err
	}
	l, err := s.choose(ctx, d, since, now, now)
	if err != nil {
		return nil, err
	}
	del := store.Delivery{
		DeliveryKey: store.DeliveryKey{Digest: d.Name, Recipient: r.addr, Period: now},
		SeenSince:   since, SeenBefore: now, Created: now,
		MessageID: s.messageID(d.Name, r.addr, now),
	}
	return s.compose(ctx, d, del, l.Groups, r.display, 0)
}

// load decodes a planned delivery's groups from its recorded layout alone
// (but for a legacy layout, see legacyGroups); cache, if not nil, keeps
// decoded layouts for the next deliveries of a run, which mostly share one.
func (s *Service) load(ctx context.Context, d Digest, del store.Delivery, cache map[string][]topics.Group) ([]topics.Group, error) {
	gs, ok := cache[del.Layout]
	if !ok {
		l, err := decodeLayout(del.Layout)
		if err != nil {
			return nil, err
		}
		gs = l.Groups
		if len(l.Topics) > 0 {
			if gs, err = s.legacyGroups(ctx, l); err != nil {
				return nil, fmt.Errorf("digest %q: %w", d.Name, err)
			}
		}
		if cache != nil {
			if len(cache) > 16 {
				clear(cache)
			}
			cache[del.Layout] = gs
		}
	}
	return gs, nil
}

// compose renders the templates and sets the headers; leftOut is how many
// items were left out to fit the mail server's size limit.
func (s *Service) compose(ctx context.Context, d Digest, del store.Delivery, gs []topics.Group, display string, leftOut int) (*Message, error) {
	unsubURL, err := s.unsubscribeURL(ctx, d.Name, del.Recipient)
	if err != nil {
		return nil, err
	}
	data := buildData(s.o.Title, d, gs, del.Period, del.SeenSince, del.SeenBefore, del.Recipient)
	data.UnsubscribeURL = unsubURL
	data.SiteURL = s.o.BaseURL
	data.LeftOut = leftOut
	set := d.Template
	if set == "" {
		set = DefaultSet
	}
	subject, text, html, err := s.tmpl.render(set, d.Subject, data)
	if err != nil {
		return nil, fmt.Errorf("digest %q: render: %w", d.Name, err)
	}
	m := &Message{
		From:      s.from.String(),
		To:        display,
		Subject:   subject,
		Date:      del.Created,
		MessageID: del.MessageID,
		ListID:    s.listID(d.Name),
		Text:      text,
		HTML:      html,

		ListUnsubscribe: "<" + unsubURL + ">",
	}
	if s.o.BaseURL != "" {
		// Only the web link answers a one-click POST (RFC 8058); the
		// mailto: one does not.
		m.ListUnsubscribePost = "List-Unsubscribe=One-Click"
	}
	return m, nil
}

// unsubscribeURL is the link that unsubscribes addr from digest: the
// signed page under BaseURL, else a mail to the sender.
func (s *Service) unsubscribeURL(ctx context.Context, digest, addr string) (string, error) {
	if s.o.BaseURL == "" {
		return "mailto:" + s.from.Address + "?subject=" + url.PathEscape("unsubscribe "+digest), nil
	}
	key, err := s.secret(ctx)
	if err != nil {
		return "", err
	}
	return s.o.BaseURL + "unsubscribe/" + Token(key, digest, addr), nil
}

// domain is the sender's domain, which Message-IDs and List-Ids live in.
func (s *Service) domain() string {
	if _, d, ok := strings.Cut(s.from.Address, "@"); ok && d != "" {
		return strings.ToLower(d)
	}
	return "localhost"
}

// messageID is the Message-ID of digest's delivery to addr for period:
// the same for every attempt, and different for any other delivery.
func (s *Service) messageID(digest, addr string, period time.Time) string {
	sum := sha256.Sum256([]byte("broadsheet recipient\x00" + addr))
	return fmt.Sprintf("digest.%s.%s.%s@%s", listLabel(digest), hex.EncodeToString(sum[:8]),
		period.UTC().Format("20060102T150405.000Z"), s.domain())
}

// listID is the List-Id header (RFC 2919): a description and
// <label.domain>.
func (s *Service) listID(digest string) string {
	return phrase(s.o.Title+" "+digest+" digest") + " <" + listLabel(digest) + "." + s.domain() + ">"
}

// listLabel is digest's name as an ASCII dot-atom label.
func listLabel(digest string) string {
	slug := feeds.Slugify(digest)
	for _, r := range slug {
		if r > 0x7e {
			sum := sha256.Sum256([]byte(digest))
			return "digest-" + hex.EncodeToString(sum[:6])
		}
	}
	if slug == "" {
		return "digest"
	}
	return slug
}

// phrase writes s as an RFC 5322 phrase: as is when it is plain ASCII
// words, quoted when it has specials, RFC 2047-encoded otherwise.
func phrase(s string) string {
	s = oneLine(s)
	plain := true
	for _, r := range s {
		if r > 0x7e {
			return mime.QEncoding.Encode("utf-8", s)
		}
		if !(r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

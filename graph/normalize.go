package graph

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalizer turns the addresses sources report into comparable keys.
// It is safe for concurrent use once built.
type Normalizer struct {
	aliases   map[string]string // normalised alias domain -> normalised canonical domain
	stripPlus bool
}

// NewNormalizer builds a normalizer with domain aliases (alias ->
// canonical) and optional plus-address stripping.
func NewNormalizer(aliases map[string]string, stripPlus bool) (*Normalizer, error) {
	n := &Normalizer{aliases: map[string]string{}, stripPlus: stripPlus}
	for a, c := range aliases {
		na, err := n.domain(a)
		if err != nil {
			return nil, fmt.Errorf("domain alias %q: %w", a, err)
		}
		nc, err := n.domain(c)
		if err != nil {
			return nil, fmt.Errorf("domain alias target %q: %w", c, err)
		}
		n.aliases[na] = nc
	}
	return n, nil
}

// ErrNotEmail is returned for values that are not e-mail addresses, such
// as SIP: or X500: proxy addresses.
var ErrNotEmail = errors.New("not an e-mail address")

// ErrOtherType is returned, with ErrNotEmail, for a typed proxy address of
// a type other than SMTP: "SIP:bob@acme.com" is a phone identity, not a
// mail address, however much it looks like one.
var ErrOtherType = errors.New("not of type SMTP")

// Normalize returns the comparable form of addr: trimmed, without an SMTP:
// prefix, Unicode NFC, case-folded, IDN domains in Unicode form, domain
// aliases applied and, when configured, +tags removed.
func (n *Normalizer) Normalize(addr string) (string, error) {
	return n.normalize(addr, nil)
}

// normalize is Normalize with an optional cache of normalised domains
// (raw domain -> domain after aliases), for one goroutine's bulk work:
// a company has few domains and millions of addresses.
func (n *Normalizer) normalize(addr string, domains map[string]string) (string, error) {
	s := strings.TrimSpace(addr)
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrNotEmail)
	}
	// Graph proxyAddresses carry a type prefix; upper-case SMTP: marks the
	// primary and lower-case smtp: the secondary addresses. Other types
	// (SIP:, X500:, ...) are not mail addresses.
	if i := strings.IndexByte(s, ':'); i > 0 && !strings.Contains(s[:i], "@") {
		if !strings.EqualFold(s[:i], "smtp") {
			return "", fmt.Errorf("%w: %w: a %s address", ErrNotEmail, ErrOtherType, s[:i])
		}
		s = strings.TrimSpace(s[i+1:])
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("%w: %q has no local part and domain", ErrNotEmail, truncate(s))
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(local, " \t\r\n<>") {
		return "", fmt.Errorf("%w: %q contains spaces or angle brackets", ErrNotEmail, truncate(s))
	}
	local = n.text(local)
	if n.stripPlus {
		if p := strings.IndexByte(local, '+'); p > 0 {
			local = local[:p]
		}
	}
	if d, ok := domains[domain]; ok {
		return local + "@" + d, nil
	}
	d, err := n.domain(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrNotEmail, truncate(s), err)
	}
	if c, ok := n.aliases[d]; ok {
		d = c
	}
	if domains != nil {
		domains[domain] = d
	}
	return local + "@" + d, nil
}

func (n *Normalizer) domain(d string) (string, error) {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	if d == "" || strings.ContainsAny(d, " \t@") {
		return "", errors.New("invalid domain")
	}
	d = n.text(d)
	if strings.Contains(d, "xn--") {
		// Punycode and Unicode spellings of one IDN domain must compare equal.
		// The lookup profile validates as a resolver would (IDNA2008 rules);
		// plain punycode decoding accepts labels that decode to spaces and
		// control characters.
		u, err := idna.Lookup.ToUnicode(d)
		if err == nil && strings.IndexFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			err = errors.New("decodes to spaces or control characters")
		}
		if err != nil {
			return "", fmt.Errorf("invalid IDN domain: %v", err)
		}
		d = n.text(u)
		if d == "" || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
			return "", errors.New("invalid IDN domain")
		}
	}
	return d, nil
}

// text folds case after NFC normalisation, with a fast path for ASCII,
// which is nearly every address.
func (n *Normalizer) text(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	// A Caser is stateful, so each slow-path call gets its own. Folding
	// alone is not idempotent (it maps lowercase Cherokee to uppercase,
	// and the uppercase back on a second pass, as fuzzing found); folding
	// then lower-casing is.
	return norm.NFC.String(strings.ToLower(cases.Fold().String(norm.NFC.String(s))))
}

func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

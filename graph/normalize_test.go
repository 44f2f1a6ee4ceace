package graph

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	aliases := map[string]string{"AcquisiCorp.net": "acme.com"}
	tests := []struct {
		name      string
		in        string
		stripPlus bool
		want      string
		wantErr   bool
	}{
		{"lower case", "Alice@ACME.com", false, "alice@acme.com", false},
		{"trimmed", "  alice@acme.com\t", false, "alice@acme.com", false},
		{"SMTP primary prefix", "SMTP:Alice@Acme.com", false, "alice@acme.com", false},
		{"smtp secondary prefix", "smtp:alice@acme.com", false, "alice@acme.com", false},
		{"SIP is no mail address", "SIP:alice@acme.com", false, "", true},
		{"X500 is no mail address", "X500:/o=ExchangeLabs/ou=Exchange", false, "", true},
		{"domain alias", "bob@acquisicorp.NET", false, "bob@acme.com", false},
		{"trailing dot in domain", "bob@acme.com.", false, "bob@acme.com", false},
		{"NFC composes é", "re\u0301mi@acme.com", false, "r\u00e9mi@acme.com", false},
		{"composed stays", "r\u00e9mi@acme.com", false, "r\u00e9mi@acme.com", false},
		{"Unicode case folding", "ÉLODIE@ACME.COM", false, "élodie@acme.com", false},
		{"German sharp s folds", "STRASSE@acme.com", false, "strasse@acme.com", false},
		{"IDN punycode equals Unicode", "anna@xn--mnchen-3ya.de", false, "anna@münchen.de", false},
		{"IDN Unicode", "anna@MÜNCHEN.de", false, "anna@münchen.de", false},
		{"plus kept when off", "carol+stonly@acme.com", false, "carol+stonly@acme.com", false},
		{"plus stripped when on", "carol+stonly@acme.com", true, "carol@acme.com", false},
		{"leading plus kept", "+carol@acme.com", true, "+carol@acme.com", false},
		{"no at sign", "carol.acme.com", false, "", true},
		{"empty local", "@acme.com", false, "", true},
		{"empty domain", "carol@", false, "", true},
		{"empty", "", false, "", true},
		{"invalid UTF-8", "caro\xffl@acme.com", false, "", true},
		{"space inside", "ca rol@acme.com", false, "", true},
		{"last at sign splits", `"a@b"@acme.com`, false, `"a@b"@acme.com`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := NewNormalizer(aliases, tt.stripPlus)
			if err != nil {
				t.Fatal(err)
			}
			got, err := n.Normalize(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Normalize(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrNotEmail) {
				t.Errorf("error %v does not wrap ErrNotEmail", err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"alice@acme.com", "SMTP:A@B.c", "x@xn--mnchen-3ya.de", "a+b@c", "\xff@x", "@", "É@É"} {
		f.Add(s)
	}
	n, _ := NewNormalizer(map[string]string{"old.com": "new.com"}, true)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := n.Normalize(s)
		if err != nil {
			return
		}
		// A normalised address is a fixed point: normalising it again
		// changes nothing, or matching would depend on the order of reads.
		again, err := n.Normalize(v)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which does not normalise again: %v", s, v, err)
		}
		if again != v {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, v, again)
		}
	})
}

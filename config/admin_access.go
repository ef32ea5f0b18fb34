package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DefaultEventBuffer is how many recent events /events keeps when the
// admin block has no event_buffer; MaxEventBuffer is the most it accepts.
const (
	DefaultEventBuffer = 1000
	MaxEventBuffer     = 1_000_000
)

// Secret is a string that must not be shown: it formats as [redacted] with
// every fmt verb and in JSON or text encodings. Convert it to string to
// use it.
type Secret string

// redacted is what a non-empty Secret prints as.
const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty Secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is String, for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalText is String, for JSON and other encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// decodeAdminAccess decodes the admin block's token, token_file,
// event_buffer and pprof into a. A token_file is read here, at load: relative paths
// are taken from the configuration file's directory, and trailing
// whitespace (the newline an editor or echo adds) is trimmed.
func decodeAdminAccess(a *Admin, b *adminBlock) hcl.Diagnostics {
	var diags, moreDiags hcl.Diagnostics
	a.EventBuffer, moreDiags = decodeIntIn("event_buffer", b.EventBuffer, DefaultEventBuffer, 1, MaxEventBuffer)
	diags = append(diags, moreDiags...)
	a.Pprof, moreDiags = decodeFlag(b.Pprof, false)
	diags = append(diags, moreDiags...)

	if written(b.Token) && written(b.TokenFile) {
		return append(diags, errorf(b.TokenFile.Range(), "Conflicting admin token",
			"token_file and token at %s both set the admin token; keep one. token_file keeps the secret out of the configuration file.",
			lineOf(b.Token.Range())))
	}
	switch {
	case written(b.Token):
		tok, moreDiags := decodeText("token", b.Token, "")
		diags = append(diags, moreDiags...)
		if tok != "" {
			if d := checkToken(tok, b.Token.Range(), "token"); d != nil {
				return append(diags, d)
			}
			a.Token = Secret(tok)
		}
	case written(b.TokenFile):
		path, moreDiags := decodeText("token_file", b.TokenFile, "")
		diags = append(diags, moreDiags...)
		if path != "" {
			tok, d := readTokenFile(path, b.TokenFile.Range())
			if d != nil {
				return append(diags, d)
			}
			a.Token = Secret(tok)
		}
	}
	return diags
}

// maxTokenFileSize bounds a token file: a token is one short line.
const maxTokenFileSize = 4096

// readTokenFile reads the token at path (relative to the directory of the
// file rng is in), trimming trailing whitespace. Errors point at rng and
// never quote the file's content.
func readTokenFile(path string, rng hcl.Range) (string, *hcl.Diagnostic) {
	full := besideConfig(path, rng)
	raw, err := readSmallRegularFile(full, maxTokenFileSize)
	if err != nil {
		return "", errorf(rng, "Cannot read token file",
			"%v. token_file must name a readable regular file (at most %d bytes) holding the admin token; a relative path is taken from the configuration file's directory.", err, maxTokenFileSize)
	}
	tok := strings.TrimRight(string(raw), " \t\r\n")
	if tok == "" {
		return "", errorf(rng, "Empty token file",
			"%s holds no token. Write the admin token into it (one line, such as the output of openssl rand -hex 32), or remove token_file to leave the mutating endpoints open.", full)
	}
	if d := checkToken(tok, rng, "the content of "+full); d != nil {
		return "", d
	}
	return tok, nil
}

// checkToken reports a token that cannot travel in an Authorization
// header as written: only visible ASCII, no spaces. what names it in the
// detail, which never quotes the token.
func checkToken(tok string, rng hcl.Range, what string) *hcl.Diagnostic {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < 0x21 || c > 0x7e {
			return errorf(rng, "Invalid admin token",
				"%s has a space, control or non-ASCII character at byte %d; an admin token must be visible ASCII with no spaces, such as the output of openssl rand -hex 32.",
				what, i+1)
		}
	}
	return nil
}

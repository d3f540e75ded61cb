package buildgraph

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces the value of a build argument whose name looks like a
// secret's, or a password in a URL, wherever stagescope prints or keeps
// one. Two values holding it cannot be compared.
const Redacted = "<redacted>"

// secretName matches build argument names that look like they hold a
// secret. It errs on the side of redacting.
var secretName = regexp.MustCompile(`(?i)secret|token|passw|pwd|passphrase|credential|auth|private|key|cert|cookie|session|signature|salt`)

// SecretLike reports whether a build argument's name looks like a secret's.
func SecretLike(name string) bool { return secretName.MatchString(name) }

// RedactArg is the value of build argument name as stagescope shows it:
// Redacted for a secret-like name, else value with RedactURL applied.
func RedactArg(name, value string) string {
	if SecretLike(name) {
		return Redacted
	}
	return RedactURL(value)
}

// RedactURL replaces the password of a URL's user information, or a user
// name given alone (often a token), with Redacted; any other value is
// returned as it is.
func RedactURL(v string) string {
	if !strings.Contains(v, "://") || !strings.Contains(v, "@") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Redacted)
	} else {
		u.User = url.User(Redacted)
	}
	// url.URL escapes the marker's angle brackets; put them back.
	return strings.Replace(u.String(), url.PathEscape(Redacted), Redacted, 1)
}

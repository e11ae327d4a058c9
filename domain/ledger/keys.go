package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// Limits of what a caller gives the ledger (checkKey, checkRef).
const (
	maxKeyBytes = 128
	maxRefRunes = 64
)

// KeyFor is the ledger key prefix + id: as it is when it fits the key's
// 128 bytes, else prefix + "#" + a digest of id. An order or event id may
// be 64 characters, and 64 Chinese characters are 192 bytes: such an id
// would make its key too long for the ledger, and its event fail. The
// same prefix and id give the same key, always; two ids, two keys.
func KeyFor(prefix, id string) string {
	if len(prefix)+len(id) <= maxKeyBytes {
		return prefix + id
	}
	return prefix + digest(id)
}

// RefIDFor is KeyFor for a reference's id (64 characters at most).
func RefIDFor(prefix, id string) string {
	if utf8.RuneCountInString(prefix)+utf8.RuneCountInString(id) <= maxRefRunes {
		return prefix + id
	}
	return prefix + digest(id)
}

// digest is "#" and 128 bits of the SHA-256 of s, in hex (33 bytes).
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "#" + hex.EncodeToString(sum[:16])
}
